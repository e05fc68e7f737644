/*
 * mesh.c - `lethe mesh gen|solve|move|png`: a gmsh square, a seeded random
 * Helmholtz problem solved with P1 elements (errors against the exact
 * field), a mesh moved by the Monge-Ampere relaxation (or left uniform)
 * under UM2N's Hessian monitor, and a PNG picture of a mesh. The command
 * parses and prints; the mesh layer (lethe/mesh.h) does the work.
 */
#include "cli/args.h"
#include "cli/cli.h"
#include "cli/common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MESH_PNG_SIZE 800
#define MESH_DEFAULT_LC 0.05f

static const char *mesh_usage =
    "usage: lethe mesh gen|solve|move|data|png|swirl [options]\n"
    "  gen    mesh the unit square with gmsh (--out F.msh --lc L --algo A\n"
    "         [--geometry square|hole])\n"
    "  solve  P1 Helmholtz on a seeded random Gaussian field (--mesh F.msh)\n"
    "  move   move a mesh (--method ma|um2n|m2n|uniform) under UM2N's monitor\n"
    "  data   make a UM2N data set (--out DIR --lc L --n N --seed S)\n"
    "  png    draw a mesh's edges (--mesh F.msh --out F.png)\n"
    "  swirl  UM2N's swirl advection, uniform or MA-moved (--out DIR)";

static int mesh_gen(int argc, char **argv)
{
    const char *out = NULL, *geometry = "square";
    float lc = MESH_DEFAULT_LC, radius = LT_MESH_HOLE_RADIUS;
    int algo = LT_GMSH_FRONTAL_DELAUNAY;
    cli_opt opts[] = {
        {"--out", CLI_OPT_STR, &out, ".msh file to write", 0, 0},
        {"--lc", CLI_OPT_FLOAT, &lc, "characteristic length (UM2N: 0.05, 0.055)", 1e-3, 1},
        {"--algo", CLI_OPT_INT, &algo, "gmsh Mesh.Algorithm (6 Frontal-Delaunay, UM2N's data)", 1, 11},
        {"--geometry", CLI_OPT_STR, &geometry, "square, or hole (the unit square less a disc at its centre, tag 5)", 0, 0},
        {"--radius", CLI_OPT_FLOAT, &radius, "the hole's radius", 1e-3, 0.5f},
    };
    int rc = cli_args_parse("mesh gen", "usage: lethe mesh gen --out F.msh "
                            "[--lc 0.05] [--algo 6] [--geometry square|hole "
                            "[--radius 0.2]]", opts, CLI_NOPTS(opts), argc, argv);
    if (rc)
        return rc == 1 ? 0 : 2;
    if (!out)
        return cli_usage("mesh gen", "--out FILE.msh is required");
    bool hole = !strcmp(geometry, "hole");
    if (!hole && strcmp(geometry, "square"))
        return cli_usage("mesh gen", "--geometry: expected square or hole");
    lt_status s = hole ? lt_mesh_gmsh_hole(out, lc, radius, algo)
                       : lt_mesh_gmsh_square(out, 1.0, lc, algo);
    if (s != LT_OK)
        return cli_fail("mesh gen", NULL);
    lt_mesh m;
    if (lt_mesh_read_msh(out, &m) != LT_OK)
        return cli_fail("mesh gen", NULL);
    printf("%s: %d vertices, %d triangles, %d boundary edges (%s, gmsh "
           "algorithm %d, lc %g)\n", out, m.nv, m.nt, m.nb, geometry, algo,
           (double)lc);
    lt_mesh_free(&m);
    return 0;
}

static void mesh_print_field(const lt_gauss_field *f, uint64_t seed)
{
    printf("field (seed %llu): %d %s Gaussian bump%s\n",
           (unsigned long long)seed, f->n, f->iso ? "isotropic" : "anisotropic",
           f->n > 1 ? "s" : "");
    for (int i = 0; i < f->n; i++)
        printf("  mu (%.3f, %.3f)  sigma (%.3f, %.3f)  z %.3f  w %.3f\n",
               f->mx[i], f->my[i], f->sx[i], f->sy[i], f->z[i], f->w[i]);
}


typedef struct {
    const char *mesh, *out, *png, *field_png, *method, *pin, *model, *grid;
    uint64_t seed;
    bool iso, fix, history;
    int maxiter, npin, pin_tags[CLI_MAX_TAGS];
    float rtol;
} mesh_opts;

static int mesh_load_field(const char *cmd, const mesh_opts *o, lt_mesh *m,
                           lt_gauss_field *f)
{
    if (!o->mesh)
        return cli_usage(cmd, "--mesh FILE.msh is required");
    if (lt_mesh_read_msh(o->mesh, m) != LT_OK)
        return cli_fail(cmd, NULL);
    lt_rng r;
    lt_rng_init(&r, o->seed);
    if (lt_gauss_field_random(f, &r, LT_FIELD_MAX_BUMPS, 0, o->iso) != LT_OK) {
        lt_mesh_free(m);
        return cli_fail(cmd, NULL);
    }
    return 0;
}

static int mesh_solve(int argc, char **argv)
{
    mesh_opts o = {0};
    cli_opt opts[] = {
        {"--mesh", CLI_OPT_STR, &o.mesh, ".msh file (4.1 ASCII)", 0, 0},
        {"--seed", CLI_OPT_U64, &o.seed, "draws the random field", 0, 0},
        {"--iso", CLI_OPT_FLAG, &o.iso, "isotropic bumps (UM2N's iso data)", 0, 0},
    };
    int rc = cli_args_parse("mesh solve", "usage: lethe mesh solve --mesh F.msh "
                            "[--seed S] [--iso]", opts, CLI_NOPTS(opts), argc, argv);
    if (rc)
        return rc == 1 ? 0 : 2;
    lt_mesh m;
    lt_gauss_field f;
    if ((rc = mesh_load_field("mesh solve", &o, &m, &f)))
        return rc;
    double l2, h1;
    if (lt_helmholtz_error(&m, &f, &l2, &h1) != LT_OK) {
        lt_mesh_free(&m);
        return cli_fail("mesh solve", o.mesh);
    }
    mesh_print_field(&f, o.seed);
    printf("%s: %d vertices, %d triangles\n", o.mesh, m.nv, m.nt);
    printf("P1 Helmholtz -lap u + u = f: L2 error %.6e  H1-seminorm error "
           "%.6e\n", l2, h1);
    lt_mesh_free(&m);
    return 0;
}

static void mesh_print_ma(const lt_ma_result *r, bool history)
{
    printf("monge-ampere: %d iteration%s, %s, residual %.3e -> %.3e, %d "
           "tangled cells, %.3f s\n", r->iters, r->iters == 1 ? "" : "s",
           r->converged ? "converged" : "not converged",
           r->iters ? r->residual[0] : 0.0,
           r->iters ? r->residual[r->iters - 1] : 0.0, r->tangled, r->seconds);
    for (int i = 0; history && i < r->iters; i++)
        printf("  %4d  residual %.6e\n", i, r->residual[i]);
}

/* --field-png: the P1 Helmholtz solution drawn on the moved mesh. */
static lt_status mesh_field_png(const char *path, const lt_mesh *m,
                                const lt_gauss_field *f)
{
    double *u = malloc((size_t)m->nv * sizeof *u);
    if (!u)
        return LT_ERR_NOMEM;
    lt_status s = lt_helmholtz_solve(m, f, u);
    if (s == LT_OK)
        s = lt_mesh_png_field(path, m, u, false, MESH_PNG_SIZE);
    free(u);
    return s;
}

/* Move m by o->method, print the error reduction, write the outputs. */
static int mesh_move_run(const mesh_opts *o, lt_mesh *m, lt_gauss_field *f)
{
    lt_mesh moved = {0};
    lt_ma_result res = {0};
    lt_status s;
    if (!strcmp(o->method, "uniform")) {
        s = lt_mesh_copy(&moved, m);
    } else if (!strcmp(o->method, "um2n") || !strcmp(o->method, "m2n")) {
        if (cli_um2n_move(o->model, strcmp(o->method, "m2n")
                                        ? LT_UM2N_ARCH_M2N_T
                                        : LT_UM2N_ARCH_M2N,
                          m, f, !strcmp(o->grid, "poly"), &moved))
            return 1;
        s = LT_OK;
    } else {
        lt_ma_opts mo;
        lt_ma_opts_default(&mo);
        mo.fix_boundary = o->fix;
        mo.pin_tags = o->pin_tags;
        mo.npin_tags = o->npin;
        if (o->maxiter)
            mo.maxiter = o->maxiter;
        if (o->rtol > 0)
            mo.rtol = o->rtol;
        s = lt_ma_move(m, lt_um2n_monitor_fn, f, &mo, &moved, &res);
        mesh_print_ma(&res, o->history);
    }
    double e0, e1;
    int rc = 0;
    if (s != LT_OK)
        rc = cli_fail("mesh move", NULL);
    else if (lt_helmholtz_error(m, f, &e0, NULL) != LT_OK ||
             lt_helmholtz_error(&moved, f, &e1, NULL) != LT_OK)
        rc = cli_fail("mesh move", "error on the moved mesh");
    else
        printf("L2 error: uniform %.6e  moved %.6e  error reduction %.2f%%\n",
               e0, e1, 100 * (e0 - e1) / e0);
    if (!rc && (rc = cli_outputs_begin("mesh move")) == 0) {
        if (o->out && lt_mesh_write_msh(o->out, &moved) != LT_OK)
            rc = cli_fail("mesh move", NULL);
        if (!rc && o->png && lt_mesh_png(o->png, &moved, MESH_PNG_SIZE) != LT_OK)
            rc = cli_fail("mesh move", NULL);
        if (!rc && o->field_png &&
            mesh_field_png(o->field_png, &moved, f) != LT_OK)
            rc = cli_fail("mesh move", o->field_png);
        rc = cli_outputs_end("mesh move", rc);
    }
    lt_ma_result_free(&res);
    lt_mesh_free(&moved);
    return rc;
}

static int mesh_move(int argc, char **argv)
{
    mesh_opts o = {.method = "ma", .grid = "square"};
    cli_opt opts[] = {
        {"--mesh", CLI_OPT_STR, &o.mesh, ".msh file to move", 0, 0},
        {"--method", CLI_OPT_STR, &o.method, "ma (Monge-Ampere), um2n or m2n (the network of --model) or uniform", 0, 0},
        {"--model", CLI_OPT_STR, &o.model, "UM2N or M2N weights (safetensors) for --method um2n / m2n", 0, 0},
        {"--seed", CLI_OPT_U64, &o.seed, "draws the Helmholtz field", 0, 0},
        {"--iso", CLI_OPT_FLAG, &o.iso, "isotropic bumps", 0, 0},
        {"--out", CLI_OPT_STR, &o.out, "moved mesh (.msh)", 0, 0},
        {"--png", CLI_OPT_STR, &o.png, "picture of the moved mesh", 0, 0},
        {"--field-png", CLI_OPT_STR, &o.field_png, "picture of the P1 Helmholtz solution on the moved mesh", 0, 0},
        {"--fix-boundary", CLI_OPT_FLAG, &o.fix, "pin every boundary vertex", 0, 0},
        {"--pin-tags", CLI_OPT_STR, &o.pin, "pin the vertices of these boundary tags (T,T,...; a Lethe variant)", 0, 0},
        {"--maxiter", CLI_OPT_INT, &o.maxiter, "MA iterations at most (500)", 1, 100000},
        {"--rtol", CLI_OPT_FLOAT, &o.rtol, "MA residual tolerance (1e-3)", 1e-12, 1},
        {"--history", CLI_OPT_FLAG, &o.history, "print every residual", 0, 0},
        {"--m2n-grid", CLI_OPT_STR, &o.grid, "M2N's monitor grid: square (20 x 20 over the bounding box) or poly (32 x 32 in the corner polygon, for the hole)", 0, 0},
    };
    int rc = cli_args_parse("mesh move", "usage: lethe mesh move --mesh F.msh "
                            "[--method ma|um2n|m2n|uniform] [--model F] [--seed S] "
                            "[--out G.msh] "
                            "[--png G.png] [--field-png U.png]", opts, CLI_NOPTS(opts), argc, argv);
    if (rc)
        return rc == 1 ? 0 : 2;
    if (strcmp(o.method, "ma") && strcmp(o.method, "uniform") &&
        strcmp(o.method, "um2n") && strcmp(o.method, "m2n"))
        return cli_usage("mesh move", "--method: expected ma, um2n, m2n or "
                         "uniform");
    if ((!strcmp(o.method, "um2n") || !strcmp(o.method, "m2n")) && !o.model)
        return cli_usage("mesh move", "--method um2n / m2n needs --model F");
    if (strcmp(o.grid, "square") && strcmp(o.grid, "poly"))
        return cli_usage("mesh move", "--m2n-grid: expected square or poly");
    if ((o.npin = cli_parse_tags(o.pin, o.pin_tags)) < 0)
        return cli_usage("mesh move", "--pin-tags: expected a comma-separated "
                         "list of at most 16 tags");
    lt_mesh m;
    lt_gauss_field f;
    if ((rc = mesh_load_field("mesh move", &o, &m, &f)))
        return rc;
    mesh_print_field(&f, o.seed);
    rc = mesh_move_run(&o, &m, &f);
    lt_mesh_free(&m);
    return rc;
}

static int mesh_png(int argc, char **argv)
{
    const char *in = NULL, *out = NULL;
    int size = MESH_PNG_SIZE;
    cli_opt opts[] = {
        {"--mesh", CLI_OPT_STR, &in, ".msh file", 0, 0},
        {"--out", CLI_OPT_STR, &out, "PNG to write", 0, 0},
        {"--size", CLI_OPT_INT, &size, "picture side in pixels", 16, 8192},
    };
    int rc = cli_args_parse("mesh png", "usage: lethe mesh png --mesh F.msh "
                            "--out F.png [--size 800]", opts, CLI_NOPTS(opts),
                            argc, argv);
    if (rc)
        return rc == 1 ? 0 : 2;
    if (!in || !out)
        return cli_usage("mesh png", "--mesh FILE.msh and --out FILE.png are "
                         "required");
    lt_mesh m;
    if (lt_mesh_read_msh(in, &m) != LT_OK)
        return cli_fail("mesh png", NULL);
    if ((rc = cli_outputs_begin("mesh png")) == 0) {
        if (lt_mesh_png(out, &m, size) != LT_OK)
            rc = cli_fail("mesh png", NULL);
        rc = cli_outputs_end("mesh png", rc);
    }
    lt_mesh_free(&m);
    return rc;
}

int cli_mesh(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        printf("%s\n", mesh_usage);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "gen"))
        return mesh_gen(argc - 1, argv + 1);
    if (!strcmp(sub, "solve"))
        return mesh_solve(argc - 1, argv + 1);
    if (!strcmp(sub, "move"))
        return mesh_move(argc - 1, argv + 1);
    if (!strcmp(sub, "png"))
        return mesh_png(argc - 1, argv + 1);
    if (!strcmp(sub, "swirl"))
        return cli_mesh_swirl(argc - 1, argv + 1);
    if (!strcmp(sub, "data"))
        return cli_mesh_data(argc - 1, argv + 1);
    fprintf(stderr, "lethe mesh: unknown subcommand '%s'\n%s\n", sub,
            mesh_usage);
    return 2;
}
