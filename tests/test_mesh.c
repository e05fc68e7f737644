/*
 * test_mesh.c - the mesh layer's foundation: .msh 4.1 reading and writing
 * (and every kind of bad file rejected with a clear message), orientation
 * and tangling, P1 Helmholtz convergence rates on refined meshes (the
 * committed gmsh squares and structured grids) and Poisson rates, the L2
 * Hessian recovery, the random fields' distributions and the per-sample
 * normalisation.
 */
#include "lt_test.h"

#include "lethe/mesh.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MESH_DIR LT_GOLDEN_DIR "/../data/mesh/"
#define M_PI_ 3.14159265358979323846

static void tmp_path(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", lt_test_tmpdir(), name);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static double mesh_area(const lt_mesh *m)
{
    double a = 0;
    for (int k = 0; k < m->nt; k++)
        a += lt_mesh_tri_area(m, k);
    return a;
}

LT_TEST(msh_read_committed_square)
{
    lt_mesh m;
    LT_CHECK(lt_mesh_read_msh(MESH_DIR "square_lc0.1.msh", &m) == LT_OK, "%s",
             lt_last_error());
    if (!m.xy)
        return;
    LT_CHECK(fabs(mesh_area(&m) - 1) < 1e-12, "area %.15g", mesh_area(&m));
    LT_CHECK(lt_mesh_count_tangled(&m) == 0, "tangled");
    /* four tags, the boundary's length 4, each side on its line */
    double len[5] = {0};
    for (int e = 0; e < m.nb; e++) {
        int t = m.btag[e];
        LT_CHECK(t >= 1 && t <= 4, "tag %d", t);
        if (t < 1 || t > 4)
            continue;
        const double *a = m.xy + 2 * m.bedge[2 * e], *b = m.xy + 2 * m.bedge[2 * e + 1];
        len[t] += hypot(b[0] - a[0], b[1] - a[1]);
        double want = t == 1 ? a[1] : t == 2 ? a[0] - 1 : t == 3 ? a[1] - 1 : a[0];
        LT_CHECK(fabs(want) < 1e-12, "tag %d edge off its side", t);
    }
    for (int t = 1; t <= 4; t++)
        LT_CHECK(fabs(len[t] - 1) < 1e-12, "side %d length %.15g", t, len[t]);
    lt_mesh_free(&m);
}

LT_TEST(msh_roundtrip)
{
    lt_mesh a, b;
    char path[512];
    tmp_path(path, sizeof path, "rt.msh");
    LT_CHECK(lt_mesh_read_msh(MESH_DIR "square_lc0.2.msh", &a) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(lt_mesh_write_msh(path, &a) == LT_OK, "%s", lt_last_error());
    LT_CHECK(lt_mesh_read_msh(path, &b) == LT_OK, "%s", lt_last_error());
    if (!a.xy || !b.xy)
        return;
    LT_CHECK(a.nv == b.nv && a.nt == b.nt && a.nb == b.nb, "sizes differ");
    if (a.nv == b.nv && a.nt == b.nt && a.nb == b.nb) {
        LT_CHECK(!memcmp(a.xy, b.xy, sizeof(double) * 2 * a.nv), "coordinates");
        LT_CHECK(!memcmp(a.tri, b.tri, sizeof(int) * 3 * a.nt), "triangles");
        LT_CHECK(!memcmp(a.btag, b.btag, sizeof(int) * a.nb), "tags");
    }
    lt_mesh_free(&a);
    lt_mesh_free(&b);
}

/* A small valid file to corrupt: two triangles of the unit square. */
static const char *msh_ok =
    "$MeshFormat\n4.1 0 8\n$EndMeshFormat\n"
    "$Entities\n0 1 1 0\n1 0 0 0 1 1 0 1 7 0\n1 0 0 0 1 1 0 1 1 1 1\n$EndEntities\n"
    "$Nodes\n1 4 1 4\n2 1 0 4\n1\n2\n3\n4\n0 0 0\n1 0 0\n1 1 0\n0 1 0\n$EndNodes\n"
    "$Elements\n2 6 1 6\n1 1 1 4\n1 1 2\n2 2 3\n3 3 4\n4 4 1\n"
    "2 1 2 2\n5 1 2 3\n6 1 3 4\n$EndElements\n";

static void expect_bad(const char *name, const char *text, const char *needle)
{
    char path[512];
    tmp_path(path, sizeof path, name);
    write_text(path, text);
    lt_mesh m;
    lt_status s = lt_mesh_read_msh(path, &m);
    LT_CHECK(s == LT_ERR_FORMAT, "%s: status %d", name, (int)s);
    LT_CHECK(strstr(lt_last_error(), needle) && strstr(lt_last_error(), path),
             "%s: message '%s' lacks '%s' or the path", name, lt_last_error(),
             needle);
    LT_CHECK(m.xy == NULL && m.nv == 0, "%s: output not cleared", name);
}

/* s with the first from replaced by to (a static buffer; s may not be it). */
static char *replace(const char *s, const char *from, const char *to)
{
    static char buf[4096];
    const char *p = strstr(s, from);
    LT_CHECK(p != NULL, "test bug: '%s' not in the text", from);
    if (!p)
        return strcpy(buf, "");
    snprintf(buf, sizeof buf, "%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
    return buf;
}

LT_TEST(msh_bad_files)
{
    char path[512];
    tmp_path(path, sizeof path, "ok.msh");
    write_text(path, msh_ok);
    lt_mesh m;
    LT_CHECK(lt_mesh_read_msh(path, &m) == LT_OK, "valid file: %s", lt_last_error());
    if (m.xy) {
        LT_CHECK(m.nv == 4 && m.nt == 2 && m.nb == 4 && m.btag[0] == 7,
                 "sizes %d %d %d, tag %d", m.nv, m.nt, m.nb, m.btag[0]);
        lt_mesh_free(&m);
    }
    expect_bad("v22.msh", replace(msh_ok, "4.1 0 8", "2.2 0 8"),
               "unsupported .msh version 2.2");
    expect_bad("bin.msh", replace(msh_ok, "4.1 0 8", "4.1 1 8"), "binary");
    expect_bad("p2.msh", replace(msh_ok, "2 1 2 2\n5 1 2 3", "2 1 9 2\n5 1 2 3"),
               "unsupported element type 9");
    expect_bad("dangling.msh", replace(msh_ok, "6 1 3 4", "6 1 3 9"),
               "node 9, which is not in $Nodes");
    expect_bad("inverted.msh", replace(msh_ok, "6 1 3 4", "6 1 4 3"),
               "inverted mesh");
    expect_bad("count.msh", replace(msh_ok, "$Elements\n2 6", "$Elements\n2 7"),
               "6 elements listed, header says 7");
    char cut[256];
    snprintf(cut, sizeof cut, "%.*s", 150, msh_ok);
    expect_bad("cut.msh", cut, "truncated");
    char untagged[4096];
    snprintf(untagged, sizeof untagged, "%s", replace(msh_ok, "2 6 1 6", "2 5 1 6"));
    expect_bad("untagged.msh", replace(untagged, "1 1 1 4\n1 1 2\n", "1 1 1 3\n"),
               "have no tag");
    expect_bad("notmsh.msh", "hello\n", "not a gmsh .msh file");
    char twice[4096];
    snprintf(twice, sizeof twice, "%s", replace(msh_ok, "$Nodes\n",
             "$Entities\n0 1 1 0\n1 0 0 0 1 1 0 1 7 0\n1 0 0 0 1 1 0 1 1 1 1\n"
             "$EndEntities\n$Nodes\n"));
    expect_bad("entities2.msh", twice, "a second $Entities section");
    expect_bad("nan.msh", replace(msh_ok, "1 1 0\n0 1 0", "1 nan 0\n0 1 0"),
               "finite number");
}

LT_TEST(orientation_and_tangling)
{
    lt_mesh m;
    LT_CHECK(lt_mesh_square_grid(&m, 4) == LT_OK, "%s", lt_last_error());
    if (!m.xy)
        return;
    LT_CHECK(fabs(mesh_area(&m) - 1) < 1e-14, "area");
    LT_CHECK(lt_mesh_count_tangled(&m) == 0, "a fresh grid has tangles");
    /* push vertex (1, 1) of the grid (index 6) past its neighbours */
    m.xy[2 * 6] = 0.6;
    m.xy[2 * 6 + 1] = 0.6;
    int t = lt_mesh_count_tangled(&m);
    LT_CHECK(t > 0 && t < m.nt, "tangled cells %d", t);
    /* clockwise everywhere is flipped, not rejected */
    lt_mesh c;
    lt_mesh_square_grid(&c, 2);
    for (int k = 0; k < c.nt; k++) {
        int s = c.tri[3 * k + 1];
        c.tri[3 * k + 1] = c.tri[3 * k + 2];
        c.tri[3 * k + 2] = s;
    }
    LT_CHECK(lt_mesh_finalize(&c, "cw") == LT_OK, "%s", lt_last_error());
    LT_CHECK(lt_mesh_count_tangled(&c) == 0, "flip failed");
    lt_mesh_free(&c);
    lt_mesh_free(&m);
}

/* One fixed anisotropic bump and a second, smooth enough for clean rates. */
static lt_gauss_field test_field(void)
{
    lt_gauss_field f = {.n = 2};
    f.mx[0] = 0.4, f.my[0] = 0.55, f.sx[0] = 0.3, f.sy[0] = 0.2, f.z[0] = 0.8;
    f.mx[1] = 0.8, f.my[1] = 0.2, f.sx[1] = 0.25, f.sy[1] = 0.35, f.z[1] = 0.5;
    return f;
}

LT_TEST(helmholtz_rates_structured)
{
    lt_gauss_field f = test_field();
    double l2[3], h1[3];
    for (int i = 0; i < 3; i++) {
        lt_mesh m;
        LT_CHECK(lt_mesh_square_grid(&m, 8 << i) == LT_OK, "%s", lt_last_error());
        LT_CHECK(lt_helmholtz_error(&m, &f, &l2[i], &h1[i]) == LT_OK, "%s",
                 lt_last_error());
        lt_mesh_free(&m);
    }
    for (int i = 0; i < 2; i++) {
        double r0 = log2(l2[i] / l2[i + 1]), r1 = log2(h1[i] / h1[i + 1]);
        LT_CHECK(r0 > 1.85 && r0 < 2.2, "L2 rate %.3f (errors %g %g)", r0,
                 l2[i], l2[i + 1]);
        LT_CHECK(r1 > 0.9 && r1 < 1.2, "H1 rate %.3f (errors %g %g)", r1,
                 h1[i], h1[i + 1]);
    }
}

LT_TEST(helmholtz_rates_gmsh)
{
    lt_gauss_field f = test_field();
    const char *names[3] = {"square_lc0.2.msh", "square_lc0.1.msh",
                            "square_lc0.05.msh"};
    double l2[3], h1[3], h[3];
    for (int i = 0; i < 3; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s%s", MESH_DIR, names[i]);
        lt_mesh m;
        LT_CHECK(lt_mesh_read_msh(path, &m) == LT_OK, "%s", lt_last_error());
        if (!m.xy)
            return;
        h[i] = 1 / sqrt((double)m.nv); /* mesh size from the vertex count */
        LT_CHECK(lt_helmholtz_error(&m, &f, &l2[i], &h1[i]) == LT_OK, "%s",
                 lt_last_error());
        lt_mesh_free(&m);
    }
    for (int i = 0; i < 2; i++) {
        double d = log(h[i] / h[i + 1]);
        double r0 = log(l2[i] / l2[i + 1]) / d, r1 = log(h1[i] / h1[i + 1]) / d;
        LT_CHECK(r0 > 1.7 && r0 < 2.4, "L2 rate %.3f", r0);
        LT_CHECK(r1 > 0.85 && r1 < 1.3, "H1 rate %.3f", r1);
    }
}

/* Poisson -lap u = f with u = sin(pi x) sin(pi y), zero on the boundary. */
static double sin_u(void *ud, double x, double y, double *g)
{
    (void)ud;
    if (g) {
        g[0] = M_PI_ * cos(M_PI_ * x) * sin(M_PI_ * y);
        g[1] = M_PI_ * sin(M_PI_ * x) * cos(M_PI_ * y);
    }
    return sin(M_PI_ * x) * sin(M_PI_ * y);
}

static double sin_f(void *ud, double x, double y, double *g)
{
    return 2 * M_PI_ * M_PI_ * sin_u(ud, x, y, g);
}

static void poisson_errors(const lt_mesh *m, double *l2, double *h1)
{
    lt_sparse K;
    lt_spchol *L = NULL;
    double *b = malloc(sizeof(double) * 2 * m->nv);
    uint8_t *fixed = malloc(m->nv);
    LT_CHECK(lt_sparse_p1(m, &K) == LT_OK && lt_fem_assemble(m, 0, 1, &K) == LT_OK,
             "%s", lt_last_error());
    lt_fem_load(m, sin_f, NULL, b);
    lt_mesh_boundary_mask(m, fixed);
    lt_sparse_dirichlet(&K, fixed, NULL, b);
    LT_CHECK(lt_spchol_factor(&K, &L) == LT_OK, "%s", lt_last_error());
    if (L) {
        lt_spchol_solve(L, b, b + m->nv);
        lt_fem_errors(m, b + m->nv, sin_u, NULL, l2, h1);
    }
    lt_spchol_free(L);
    lt_sparse_free(&K);
    free(b);
    free(fixed);
}

LT_TEST(poisson_rates)
{
    double l2[3] = {1, 1, 1}, h1[3] = {1, 1, 1};
    for (int i = 0; i < 3; i++) {
        lt_mesh m;
        LT_CHECK(lt_mesh_square_grid(&m, 8 << i) == LT_OK, "%s", lt_last_error());
        poisson_errors(&m, &l2[i], &h1[i]);
        lt_mesh_free(&m);
    }
    for (int i = 0; i < 2; i++) {
        double r0 = log2(l2[i] / l2[i + 1]), r1 = log2(h1[i] / h1[i + 1]);
        LT_CHECK(r0 > 1.9 && r0 < 2.1, "L2 rate %.3f", r0);
        LT_CHECK(r1 > 0.95 && r1 < 1.1, "H1 rate %.3f", r1);
    }
    LT_CHECK(l2[2] < 2e-3, "L2 error on the 32 x 32 grid %g", l2[2]);
}

/* u = a x^2 + b xy + c y^2 + d x + e y */
static void quad_values(const lt_mesh *m, const double q[5], double *u)
{
    for (int i = 0; i < m->nv; i++) {
        double x = m->xy[2 * i], y = m->xy[2 * i + 1];
        u[i] = q[0] * x * x + q[1] * x * y + q[2] * y * y + q[3] * x + q[4] * y;
    }
}

LT_TEST(hessian_recovery)
{
    lt_mesh m;
    LT_CHECK(lt_mesh_square_grid(&m, 32) == LT_OK, "%s", lt_last_error());
    if (!m.xy)
        return;
    double *u = malloc(sizeof(double) * 5 * m.nv), *H = u + m.nv;
    /* linear: zero everywhere, boundary included (the boundary term) */
    const double lin[5] = {0, 0, 0, 1.5, -0.7};
    quad_values(&m, lin, u);
    LT_CHECK(lt_fem_hessian(&m, NULL, u, H) == LT_OK, "%s", lt_last_error());
    double worst = 0;
    for (int i = 0; i < 4 * m.nv; i++)
        worst = fmax(worst, fabs(H[i]));
    LT_CHECK(worst < 1e-10, "linear field: |H| up to %g", worst);
    /* quadratic: exact Hessian [[2, 3], [3, -4]] away from the boundary */
    const double qd[5] = {1, 3, -2, 0.3, 0.1}, want[4] = {2, 3, 3, -4};
    quad_values(&m, qd, u);
    LT_CHECK(lt_fem_hessian(&m, NULL, u, H) == LT_OK, "%s", lt_last_error());
    /* the loads of interior vertices are exact; the boundary's error
     * spreads through the mass matrix's inverse, which decays by 2 + sqrt 3
     * per layer of vertices */
    double layer[17] = {0};
    for (int i = 0; i < m.nv; i++) {
        double x = m.xy[2 * i], y = m.xy[2 * i + 1];
        int d = (int)lround(32 * fmin(fmin(x, 1 - x), fmin(y, 1 - y)));
        for (int c = 0; c < 4; c++)
            layer[d] = fmax(layer[d], fabs(H[4 * i + c] - want[c]));
    }
    LT_CHECK(layer[12] < 5e-6 && layer[16] < 5e-8, "interior errors %g (layer "
             "12), %g (layer 16)", layer[12], layer[16]);
    for (int d = 3; d < 12; d++) {
        double ratio = layer[d] / layer[d + 1];
        LT_CHECK(ratio > 3.4 && ratio < 4.1, "decay from layer %d: %.3f (want "
                 "about 2 + sqrt 3)", d, ratio);
    }
    free(u);
    lt_mesh_free(&m);
}

LT_TEST(monitor_range)
{
    lt_mesh m;
    LT_CHECK(lt_mesh_read_msh(MESH_DIR "square_lc0.1.msh", &m) == LT_OK, "%s",
             lt_last_error());
    if (!m.xy)
        return;
    lt_gauss_field f = test_field();
    double *mon = malloc(sizeof(double) * m.nv);
    LT_CHECK(lt_um2n_monitor(&m, &f, mon, NULL, NULL) == LT_OK, "%s",
             lt_last_error());
    double lo = 1e300, hi = -1e300;
    for (int i = 0; i < m.nv; i++) {
        lo = fmin(lo, mon[i]);
        hi = fmax(hi, mon[i]);
    }
    /* 1 + 5 x (a projection normalised by its maximum): the top is 6 */
    LT_CHECK(fabs(hi - 6) < 1e-12, "max monitor %.15g", hi);
    /* the L2 projection of |H|^2 may undershoot below 0 near steep
     * changes, so the monitor dips a little under 1, as in UM2N's code */
    LT_CHECK(lo > 0.5 && lo < 1.5, "min monitor %g", lo);
    free(mon);
    lt_mesh_free(&m);
}

LT_TEST(random_fields)
{
    lt_rng r;
    lt_rng_init(&r, 7);
    int count[LT_FIELD_MAX_BUMPS + 1] = {0};
    double ssum = 0;
    int ns = 0, floor_hits = 0;
    for (int t = 0; t < 2000; t++) {
        lt_gauss_field f;
        LT_CHECK(lt_gauss_field_random(&f, &r, 6, 0, false) == LT_OK, "draw");
        count[f.n]++;
        for (int i = 0; i < f.n; i++) {
            double v[6] = {f.mx[i], f.my[i], f.sx[i], f.sy[i], f.z[i], f.w[i]};
            for (int j = 0; j < 6; j++)
                LT_CHECK(fabs(v[j] * 1000 - round(v[j] * 1000)) < 1e-9,
                         "not rounded to 3 decimals: %.17g", v[j]);
            LT_CHECK(f.mx[i] >= 0 && f.mx[i] <= 1 && f.z[i] >= 0 && f.z[i] <= 1,
                     "centre/height out of range");
            LT_CHECK(f.sx[i] >= 0.125 && f.w[i] >= 0.05 && f.w[i] <= 0.2,
                     "sigma/w out of range");
            floor_hits += f.sx[i] == 0.125;
            ssum += f.sx[i];
            ns++;
        }
    }
    for (int n = 1; n <= 6; n++)
        LT_CHECK(count[n] > 250 && count[n] < 420, "n = %d drawn %d times", n,
                 count[n]);
    /* normal(1/4, 1/6) cut at 1/8: P(below) = Phi(-0.75) = 0.227 */
    double pf = (double)floor_hits / ns;
    LT_CHECK(pf > 0.2 && pf < 0.26, "sigma floor share %.3f", pf);
    LT_CHECK(ssum / ns > 0.27 && ssum / ns < 0.30, "mean sigma %.4f", ssum / ns);
    lt_gauss_field f = test_field(); /* f = -lap u + u, by differences */
    double x = 0.37, y = 0.61, hh = 1e-4, c = lt_gauss_field_u(&f, x, y, NULL);
    double lap = (lt_gauss_field_u(&f, x + hh, y, NULL) +
                  lt_gauss_field_u(&f, x - hh, y, NULL) +
                  lt_gauss_field_u(&f, x, y + hh, NULL) +
                  lt_gauss_field_u(&f, x, y - hh, NULL) - 4 * c) / (hh * hh);
    LT_CHECK(fabs(lt_gauss_field_f(&f, x, y, NULL) - (c - lap)) < 1e-5,
             "f %.9g vs %.9g", lt_gauss_field_f(&f, x, y, NULL), c - lap);
}

LT_TEST(feature_normalise)
{
    double x[6] = {1, -4, -3, 2, 0, 0}; /* 3 rows, 2 columns */
    lt_features_normalise(x, 3, 2);
    const double want[6] = {1.0 / 3, -1, -1, 0.5, 0, 0};
    for (int i = 0; i < 6; i++)
        LT_CHECK(x[i] == want[i], "x[%d] = %g, want %g", i, x[i], want[i]);
}

LT_TEST_MAIN()
