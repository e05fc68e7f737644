/*
 * gmsh.c - new meshes from the gmsh mesher, run as a program (Debian's
 * `gmsh`, or the one named by LETHE_GMSH): a .geo script of the square as
 * UM2N's UnstructuredSquareMeshGenerator builds it through gmsh's Python
 * API (or of the unit square with a circular hole, UM2N's non-convex
 * case), meshed in 2-D to .msh 4.1 ASCII beside the target, read back and
 * checked, then renamed over the target.
 */
#include "lethe/io.h"
#include "lethe/mesh.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The gmsh program: LETHE_GMSH, else `gmsh` found on PATH. */
static lt_status gmsh_find(char *out, size_t n)
{
    const char *env = getenv("LETHE_GMSH");
    if (env && *env) {
        if (access(env, X_OK))
            return lt_set_error(LT_ERR_IO, "gmsh not found: LETHE_GMSH=%s is "
                                "not an executable (install gmsh: apt-get "
                                "install gmsh)", env);
        snprintf(out, n, "%s", env);
        return LT_OK;
    }
    const char *path = getenv("PATH");
    for (const char *p = path ? path : ""; *p;) {
        const char *c = strchr(p, ':');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        snprintf(out, n, "%.*s/gmsh", (int)len, p);
        if (len && !access(out, X_OK))
            return LT_OK;
        p += len + (c != NULL);
    }
    return lt_set_error(LT_ERR_IO, "gmsh not found on PATH: new meshes need "
                        "the gmsh program (apt-get install gmsh, or set "
                        "LETHE_GMSH); the committed .msh files need none");
}

/* What to mesh: the square [0, scale]^2, with a hole of radius r > 0 at
 * its centre when r > 0. */
typedef struct {
    double scale, lc, r;
    int algo;
} gmsh_geom;

/* The hole: a circle of four arcs about a centre point, tag 5. */
static void gmsh_write_hole(FILE *f, const gmsh_geom *g)
{
    double c = g->scale / 2;
    fprintf(f, "r = %.17g;\nPoint(5) = {%.17g, %.17g, 0, lc};\n", g->r, c, c);
    fprintf(f, "Point(6) = {%.17g + r, %.17g, 0, lc};\n"
               "Point(7) = {%.17g, %.17g + r, 0, lc};\n"
               "Point(8) = {%.17g - r, %.17g, 0, lc};\n"
               "Point(9) = {%.17g, %.17g - r, 0, lc};\n", c, c, c, c, c, c,
            c, c);
    fprintf(f, "Circle(5) = {6, 5, 7};\nCircle(6) = {7, 5, 8};\n"
               "Circle(7) = {8, 5, 9};\nCircle(8) = {9, 5, 6};\n"
               "Curve Loop(2) = {5, 6, 7, 8};\n");
}

static lt_status gmsh_write_geo(const char *geo, const gmsh_geom *g)
{
    FILE *f = fopen(geo, "w");
    if (!f)
        return lt_set_error(LT_ERR_IO, "%s: cannot write", geo);
    fprintf(f, "lc = %.17g;\ns = %.17g;\n", g->lc, g->scale);
    fprintf(f, "Point(1) = {0, 0, 0, lc};\nPoint(2) = {s, 0, 0, lc};\n"
               "Point(3) = {s, s, 0, lc};\nPoint(4) = {0, s, 0, lc};\n");
    fprintf(f, "Line(1) = {1, 2};\nLine(2) = {2, 3};\nLine(3) = {3, 4};\n"
               "Line(4) = {4, 1};\nCurve Loop(1) = {1, 2, 3, 4};\n");
    if (g->r > 0)
        gmsh_write_hole(f, g);
    fprintf(f, "Plane Surface(1) = {1%s};\n", g->r > 0 ? ", 2" : "");
    for (int i = 1; i <= 4; i++)
        fprintf(f, "Physical Curve(\"Boundary %d\", %d) = {%d};\n", i, i, i);
    if (g->r > 0)
        fprintf(f, "Physical Curve(\"Hole\", %d) = {5, 6, 7, 8};\n"
                   "Physical Surface(\"My surface\", %d) = {1};\n",
                LT_MESH_HOLE_TAG, LT_MESH_HOLE_TAG + 1);
    else
        fprintf(f, "Physical Surface(\"My surface\", 5) = {1};\n");
    fprintf(f, "Mesh.Algorithm = %d;\n", g->algo);
    return fclose(f) ? lt_set_error(LT_ERR_IO, "%s: cannot write", geo) : LT_OK;
}

/* Run gmsh GEO -2 -format msh41 -o MSH quietly; its output goes to LOG. */
static lt_status gmsh_run(const char *prog, const char *geo, const char *msh,
                          const char *log)
{
    pid_t pid = fork();
    if (pid < 0)
        return lt_set_error(LT_ERR_IO, "gmsh: cannot start a process");
    if (pid == 0) {
        if (!freopen(log, "w", stdout) || !freopen(log, "a", stderr))
            _exit(127);
        execl(prog, prog, geo, "-2", "-format", "msh41", "-nt", "1", "-v",
              "2", "-o", msh, (char *)NULL);
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) < 0)
        return lt_set_error(LT_ERR_IO, "gmsh: lost the process");
    if (!WIFEXITED(st) || WEXITSTATUS(st)) {
        char *txt = NULL;
        lt_read_file(log, &txt, NULL);
        lt_status s = lt_set_error(LT_ERR_IO, "gmsh (%s) failed (status %d): "
                                   "%.300s", prog, WIFEXITED(st) ?
                                   WEXITSTATUS(st) : -1, txt ? txt : "");
        free(txt);
        return s;
    }
    return LT_OK;
}

static lt_status gmsh_make(const char *path, const gmsh_geom *g)
{
    char prog[4096];
    lt_status s = gmsh_find(prog, sizeof prog);
    if (s != LT_OK)
        return s;
    size_t n = strlen(path) + 32;
    char *geo = malloc(n), *tmp = malloc(n), *log = malloc(n);
    if (!geo || !tmp || !log) {
        free(geo), free(tmp), free(log);
        return lt_set_error(LT_ERR_NOMEM, "gmsh: out of memory");
    }
    long id = (long)getpid();
    snprintf(geo, n, "%s.%ld.geo", path, id);
    snprintf(tmp, n, "%s.%ld.tmp.msh", path, id);
    snprintf(log, n, "%s.%ld.log", path, id);
    s = gmsh_write_geo(geo, g);
    if (s == LT_OK)
        s = gmsh_run(prog, geo, tmp, log);
    lt_mesh m = {0};
    if (s == LT_OK)
        s = lt_mesh_read_msh(tmp, &m);
    lt_mesh_free(&m);
    if (s == LT_OK && rename(tmp, path))
        s = lt_set_error(LT_ERR_IO, "%s: cannot write", path);
    remove(geo);
    remove(tmp);
    remove(log);
    free(geo), free(tmp), free(log);
    return s;
}

static lt_status gmsh_check(const char *what, double scale, double lc, int algo)
{
    if (!(lc > 0) || !(scale > 0) || lc > scale)
        return lt_set_error(LT_ERR_ARG, "gmsh %s: lc %g and scale %g: need 0 "
                            "< lc <= scale", what, lc, scale);
    if (algo < 1 || algo > 11)
        return lt_set_error(LT_ERR_ARG, "gmsh %s: algorithm %d, expected "
                            "1..11", what, algo);
    return LT_OK;
}

lt_status lt_mesh_gmsh_square(const char *path, double scale, double lc,
                              int algo)
{
    lt_status s = gmsh_check("square", scale, lc, algo);
    gmsh_geom g = {scale, lc, 0, algo};
    return s != LT_OK ? s : gmsh_make(path, &g);
}

lt_status lt_mesh_gmsh_hole(const char *path, double lc, double r, int algo)
{
    lt_status s = gmsh_check("hole", 1, lc, algo);
    if (s == LT_OK && !(r > lc / 4 && r < 0.5 - lc / 4))
        s = lt_set_error(LT_ERR_ARG, "gmsh hole: radius %g: need lc/4 < r < "
                         "1/2 - lc/4 (lc %g)", r, lc);
    gmsh_geom g = {1, lc, r, algo};
    return s != LT_OK ? s : gmsh_make(path, &g);
}
