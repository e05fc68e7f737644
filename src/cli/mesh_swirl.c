/*
 * mesh_swirl.c - `lethe mesh swirl`: UM2N's swirl advection case on a
 * uniform gmsh square (made at --lc, or read with --mesh) or on that mesh
 * moved by Monge-Ampere every step. It prints and writes to --out the L2
 * error at T against the exact state, int u at the start and the end, the
 * MA iterations, time, failures and tangled cells, and pictures of the
 * mesh and the field at the start, every --every steps and at T. The
 * command parses and prints; the mesh layer (lethe/swirl.h) does the work.
 */
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "lethe/io.h"
#include "lethe/swirl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SWIRL_PNG_SIZE 800
#define SWIRL_DEFAULT_LC 0.028f
#define SWIRL_CMD "mesh swirl"

typedef struct {
    const char *mesh, *out, *method;
    float lc;
    int steps, every, maxiter;
} swirl_opts;

/* The snapshot callback: the mesh and field pictures of a step. */
typedef struct {
    const char *dir;
    int every, steps;
} swirl_pics;

static lt_status swirl_pictures(const char *dir, int step, const lt_mesh *m,
                                const double *u)
{
    size_t n = strlen(dir) + 32;
    char *path = malloc(n);
    if (!path)
        return lt_set_error(LT_ERR_NOMEM, "swirl: out of memory");
    snprintf(path, n, "%s/mesh_%04d.png", dir, step);
    lt_status s = lt_mesh_png(path, m, SWIRL_PNG_SIZE);
    snprintf(path, n, "%s/field_%04d.png", dir, step);
    if (s == LT_OK)
        s = lt_mesh_png_field(path, m, u, true, SWIRL_PNG_SIZE);
    free(path);
    return s;
}

static lt_status swirl_snap(void *ud, int step, const lt_mesh *m,
                            const double *u)
{
    const swirl_pics *p = ud;
    if (step == p->steps || (p->every > 0 && step % p->every == 0))
        return swirl_pictures(p->dir, step, m, u);
    return LT_OK;
}

/* The mesh: --mesh, or a gmsh square at --lc made beside the outputs. */
static int swirl_mesh(const swirl_opts *o, lt_mesh *m)
{
    if (o->mesh)
        return lt_mesh_read_msh(o->mesh, m) == LT_OK ? 0
                                                      : cli_fail(SWIRL_CMD, NULL);
    size_t n = strlen(o->out) + 48;
    char *tmp = malloc(n);
    if (!tmp)
        return cli_fail(SWIRL_CMD, "out of memory");
    snprintf(tmp, n, "%s/.square.%ld.msh", o->out, (long)getpid());
    lt_status s = lt_mesh_gmsh_square(tmp, 1.0, o->lc, LT_GMSH_FRONTAL_DELAUNAY);
    if (s == LT_OK)
        s = lt_mesh_read_msh(tmp, m);
    remove(tmp);
    free(tmp);
    return s == LT_OK ? 0 : cli_fail(SWIRL_CMD, NULL);
}

static void swirl_report(char *buf, size_t n, const swirl_opts *o,
                         const lt_swirl_cfg *c, const lt_mesh *m,
                         const lt_swirl_result *r)
{
    int len = snprintf(buf, n,
        "swirl: %d vertices, %d triangles, method %s, %d steps of dt %g "
        "(T %g, reversed after %d)\n"
        "ring sigma %.6g r0 %g centre (%g, %g), alpha %g, smoother N %d\n"
        "L2 error at T against the exact state: %.6e\n"
        "int u: start %.15e  end %.15e  (change %.3e)\n",
        m->nv, m->nt, o->method, c->steps, c->dt, c->steps * c->dt,
        c->steps / 2, c->sigma, c->r0, c->x0, c->y0, c->alpha, c->n_smooth,
        r->l2_error, r->mass0, r->mass, r->mass - r->mass0);
    if (c->move && len > 0 && (size_t)len < n)
        snprintf(buf + len, n - (size_t)len,
                 "monge-ampere: %d iterations in all (%.2f a step, at most "
                 "%d), %d failed steps, %.3f s; tangled cells: at most %d, "
                 "in %d steps\n", r->ma_iters, (double)r->ma_iters / c->steps,
                 r->ma_iters_max, r->ma_failures, r->ma_seconds,
                 r->tangled_max, r->tangled_steps);
}

/* The run inside the commit set: pictures of the start, the run, the
 * summary and the final mesh. */
static lt_status swirl_outputs(const swirl_opts *o, const lt_swirl_cfg *c,
                               const lt_mesh *m, lt_swirl_result *r,
                               char *path)
{
    double *u0 = malloc(sizeof(double) * 3 * (size_t)m->nt);
    if (!u0)
        return lt_set_error(LT_ERR_NOMEM, "swirl: out of memory");
    lt_dg1_interpolate(m, lt_swirl_u0, (void *)c, u0);
    lt_status s = swirl_pictures(o->out, 0, m, u0);
    free(u0);
    swirl_pics pics = {o->out, o->every, c->steps};
    if (s == LT_OK)
        s = lt_swirl_run(c, m, swirl_snap, &pics, r);
    if (s == LT_OK) {
        char report[1024];
        swirl_report(report, sizeof report, o, c, m, r);
        fputs(report, stdout);
        sprintf(path, "%s/summary.txt", o->out);
        s = lt_write_text_atomic(path, report);
    }
    if (s == LT_OK) {
        sprintf(path, "%s/mesh_final.msh", o->out);
        s = lt_mesh_write_msh(path, &r->mesh);
    }
    return s;
}

static int swirl_run(const swirl_opts *o, const lt_swirl_cfg *c)
{
    int rc = cli_outputs_begin(SWIRL_CMD);
    if (rc)
        return rc;
    lt_mesh m = {0};
    lt_swirl_result r = {0};
    char *path = malloc(strlen(o->out) + 32);
    if (!path)
        rc = cli_fail(SWIRL_CMD, "out of memory");
    else if (lt_mkdirs(o->out) != LT_OK)
        rc = cli_fail(SWIRL_CMD, "--out");
    if (!rc)
        rc = swirl_mesh(o, &m);
    if (!rc && swirl_outputs(o, c, &m, &r, path) != LT_OK)
        rc = cli_fail(SWIRL_CMD, NULL);
    rc = cli_outputs_end(SWIRL_CMD, rc);
    free(path);
    lt_swirl_result_free(&r);
    lt_mesh_free(&m);
    return rc;
}

int cli_mesh_swirl(int argc, char **argv)
{
    swirl_opts o = {.method = "ma", .lc = SWIRL_DEFAULT_LC};
    lt_swirl_cfg c;
    lt_swirl_cfg_default(&c);
    o.steps = c.steps;
    cli_opt opts[] = {
        {"--out", CLI_OPT_STR, &o.out, "folder for the summary, pictures and final mesh", 0, 0},
        {"--method", CLI_OPT_STR, &o.method, "ma (Monge-Ampere every step) or uniform", 0, 0},
        {"--lc", CLI_OPT_FLOAT, &o.lc, "gmsh square's characteristic length (UM2N: 0.028)", 1e-3, 0.5f},
        {"--mesh", CLI_OPT_STR, &o.mesh, "a .msh of the unit square instead of gmsh", 0, 0},
        {"--steps", CLI_OPT_INT, &o.steps, "time steps of 1e-3, even (1000: T = 1)", 2, 1000000},
        {"--every", CLI_OPT_INT, &o.every, "pictures every K steps (0: start and end)", 0, 1000000},
        {"--maxiter", CLI_OPT_INT, &o.maxiter, "MA iterations at most per step (500)", 1, 100000},
    };
    int rc = cli_args_parse(SWIRL_CMD, "usage: lethe mesh swirl --out DIR "
                            "[--method ma|uniform] [--lc 0.028 | --mesh F.msh] "
                            "[--steps 1000] [--every K]", opts, CLI_NOPTS(opts),
                            argc, argv);
    if (rc)
        return rc == 1 ? 0 : 2;
    if (!o.out)
        return cli_usage(SWIRL_CMD, "--out DIR is required");
    if (strcmp(o.method, "ma") && strcmp(o.method, "uniform"))
        return cli_usage(SWIRL_CMD, "--method: expected ma or uniform");
    if (o.steps % 2)
        return cli_usage(SWIRL_CMD, "--steps: must be even (the flow reverses "
                         "half-way, so the exact state at T is the initial one)");
    c.steps = o.steps;
    c.move = !strcmp(o.method, "ma");
    if (o.maxiter)
        c.ma.maxiter = o.maxiter;
    return swirl_run(&o, &c);
}
