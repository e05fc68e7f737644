/*
 * test_m2n_poly.c - M2N's monitor grid on a domain that is not the square
 * (UM2N's processor.get_conv_feat_poly), on the committed square with a
 * hole: the corners of sides 1-4, the 32 x 32 grid of a linear monitor
 * (the P1 interpolant reproduces it) against its values worked out here,
 * with the points outside the shrunk corner polygon and those in the hole
 * 0 and rows running from the top; the corners' errors; and M2N moving
 * the hole mesh with that grid (boundary and hole vertices kept, a result
 * that differs from the square grid's).
 */
#include "lt_test.h"

#include "lethe/um2n.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HOLE_MESH LT_GOLDEN_DIR "/../data/mesh/hole_lc0.1.msh"
#define G LT_M2N_POLY_GRID

static bool load(lt_mesh *m)
{
    lt_status s = lt_mesh_read_msh(HOLE_MESH, m);
    LT_CHECK(s == LT_OK, "%s", lt_last_error());
    return s == LT_OK;
}

static double lin(double x, double y) { return 1 + x + 2 * y; }

LT_TEST(m2n_corners_of_the_hole_and_errors)
{
    lt_mesh m;
    if (!load(&m))
        return;
    float c[8];
    const float want[8] = {1, 0, 1, 1, 0, 1, 0, 0};
    LT_CHECK(lt_m2n_corners(&m, 4, c) == LT_OK, "%s", lt_last_error());
    for (int k = 0; k < 8; k++)
        LT_CHECK(c[k] == want[k], "corner value %d: %g, want %g", k, c[k],
                 want[k]);
    float c5[10];
    LT_CHECK(lt_m2n_corners(&m, 5, c5) == LT_ERR_ARG &&
             strstr(lt_last_error(), "sides 4 and 5 share 0 vertices"),
             "5 sides: %s", lt_last_error());
    LT_CHECK(lt_m2n_corners(&m, 2, c) == LT_ERR_ARG, "2 sides");
    lt_mesh_free(&m);
}

LT_TEST(m2n_poly_grid_linear_monitor)
{
    lt_mesh m;
    if (!load(&m))
        return;
    float *mf = malloc(sizeof(float) * 3 * m.nv), c[8], grid[G * G];
    int32_t *faces = malloc(sizeof(int32_t) * 3 * m.nt);
    for (int i = 0; i < m.nv; i++) {
        mf[3 * i] = (float)m.xy[2 * i];
        mf[3 * i + 1] = (float)m.xy[2 * i + 1];
        mf[3 * i + 2] = (float)lin(m.xy[2 * i], m.xy[2 * i + 1]);
    }
    for (int i = 0; i < 3 * m.nt; i++)
        faces[i] = m.tri[i];
    LT_CHECK(lt_m2n_corners(&m, 4, c) == LT_OK, "%s", lt_last_error());
    LT_CHECK(lt_m2n_poly_grid(mf, m.nv, faces, m.nt, c, 4, grid) == LT_OK,
             "%s", lt_last_error());
    /* the corners shrunk by 0.95 towards (0.5, 0.5) span [0.025, 0.975];
     * the sample points are j / 31 (x) and 1 - i / 31 (y) */
    double big = 0, worst = 0;
    int zeros_out = 0, zeros_hole = 0, inside = 0;
    for (int i = 0; i < G; i++)
        for (int j = 0; j < G; j++) {
            double x = j / (double)(G - 1), y = 1 - i / (double)(G - 1);
            bool in = x >= 0.025 && x <= 0.975 && y >= 0.025 && y <= 0.975;
            double r = hypot(x - 0.5, y - 0.5);
            if (in && r > 0.21)
                big = fmax(big, lin(x, y));
            if (!in)
                zeros_out += grid[i * G + j] == 0;
            else if (r < 0.19)
                zeros_hole += grid[i * G + j] == 0;
        }
    for (int i = 0; i < G; i++)
        for (int j = 0; j < G; j++) {
            double x = j / (double)(G - 1), y = 1 - i / (double)(G - 1);
            bool in = x >= 0.025 && x <= 0.975 && y >= 0.025 && y <= 0.975;
            if (in && hypot(x - 0.5, y - 0.5) > 0.21) {
                inside++;
                worst = fmax(worst, fabs(grid[i * G + j] - lin(x, y) / big));
            }
        }
    int n_out = G * G - 30 * 30; /* the first and last row and column */
    LT_CHECK(zeros_out == n_out, "%d of %d points outside the shrunk polygon "
             "are 0", zeros_out, n_out);
    LT_CHECK(zeros_hole > 100, "%d points in the hole are 0", zeros_hole);
    LT_CHECK(inside > 500 && worst < 1e-6, "%d points: worst %.3g from "
             "(1 + x + 2y) / max", inside, worst);
    /* the image layout: row 1 is near the top (y = 30/31), row 30 near the
     * bottom, so the monitor (rising with y) is larger in row 1 */
    LT_CHECK(grid[1 * G + 1] > grid[30 * G + 1], "rows run from the top");
    LT_CHECK(lt_m2n_poly_grid(mf, m.nv, faces, m.nt, c, 2, grid) == LT_ERR_ARG,
             "two corners");
    free(mf), free(faces);
    lt_mesh_free(&m);
}

LT_TEST(m2n_moves_the_hole_with_the_poly_grid)
{
    lt_mesh m;
    if (!load(&m))
        return;
    lt_um2n net;
    lt_ctx *c = lt_ctx_new((size_t)256 << 20);
    double *mon = malloc(sizeof(double) * m.nv);
    double *a = malloc(sizeof(double) * 2 * m.nv),
           *b = malloc(sizeof(double) * 2 * m.nv);
    for (int i = 0; i < m.nv; i++) /* a bump beside the hole */
        mon[i] = 1 + 5 * exp(-(pow(m.xy[2 * i] - 0.2, 2) +
                               pow(m.xy[2 * i + 1] - 0.8, 2)) / 0.01);
    LT_CHECK(lt_um2n_init_arch(&net, LT_UM2N_ARCH_M2N, 3) == LT_OK, "%s",
             lt_last_error());
    LT_CHECK(lt_um2n_move_mesh(c, &net, &m, mon, true, a, NULL) == LT_OK,
             "%s", lt_last_error());
    LT_CHECK(lt_um2n_move_mesh(c, &net, &m, mon, false, b, NULL) == LT_OK,
             "%s", lt_last_error());
    uint8_t *on = calloc(m.nv, 1);
    lt_mesh_boundary_mask(&m, on);
    double kept = 0, diff = 0, moved = 0;
    for (int i = 0; i < 2 * m.nv; i++) {
        double x = (float)m.xy[i];
        if (on[i / 2])
            kept = fmax(kept, fabs(a[i] - x));
        else
            moved = fmax(moved, fabs(a[i] - x));
        diff = fmax(diff, fabs(a[i] - b[i]));
    }
    LT_CHECK(kept == 0, "a boundary or hole vertex moved by %.3g", kept);
    LT_CHECK(moved > 0 && diff > 0, "interior moved %.3g, the two grids "
             "differ by %.3g", moved, diff);
    free(on), free(mon), free(a), free(b);
    lt_um2n_free(&net);
    lt_ctx_free(c);
    lt_mesh_free(&m);
}

LT_TEST_MAIN()
