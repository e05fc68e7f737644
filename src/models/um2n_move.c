/*
 * um2n_move.c - a trained UM2N or M2N network moving one mesh: the inputs
 * UM2N's loader builds for a mesh and its monitor (lt_um2n_features, the
 * edges of processor.find_edges), one forward pass with dropout off, the
 * output coordinates. Used by `lethe mesh move --method um2n|m2n` and by
 * `lethe bench um2n`'s swirl case, where the network moves the mesh at
 * every time step; the corners of a polygon domain, which M2N's grid
 * samples on a domain that is not the square.
 */
#include "lethe/um2n.h"

#include <stdlib.h>
#include <string.h>

#define MOVE_SIDES 4 /* the square's sides 1-4 (bottom, right, top, left) */

lt_status lt_um2n_move_mesh(lt_ctx *c, lt_um2n *net, const lt_mesh *m,
                            const double *mon, bool poly, double *xy,
                            double *seconds)
{
    if (!c || !net || !m || !mon || !xy)
        return lt_set_error(LT_ERR_ARG, "um2n_move_mesh: NULL argument");
    int64_t n = m->nv, ne = 0;
    int32_t *faces = malloc((size_t)m->nt * 3 * sizeof *faces), *src = NULL,
            *dst = NULL;
    float *x = malloc((size_t)n * 6 * sizeof *x);
    lt_status s = faces && x ? LT_OK
                             : lt_set_error(LT_ERR_NOMEM, "um2n_move_mesh: "
                                            "out of memory");
    for (int64_t i = 0; s == LT_OK && i < 3 * (int64_t)m->nt; i++)
        faces[i] = m->tri[i];
    if (s == LT_OK)
        s = lt_um2n_edges(faces, m->nt, n, &src, &dst, &ne);
    if (s == LT_OK)
        s = lt_um2n_features(m, mon, x, x + 3 * n);
    float corners[2 * MOVE_SIDES];
    if (s == LT_OK && poly)
        s = lt_m2n_corners(m, MOVE_SIDES, corners);
    if (s == LT_OK) {
        lt_um2n_batch b = {n, 1, x, x + 3 * n, src, dst, ne, faces, m->nt,
                           NULL, 0, poly ? corners : NULL,
                           poly ? MOVE_SIDES : 0};
        lt_ctx_reset(c);
        double t0 = lt_clock_seconds();
        lt_tensor *out = lt_um2n_forward(c, net, &b, false, NULL);
        if (seconds)
            *seconds = lt_clock_seconds() - t0;
        if (!out)
            s = lt_last_status();
        for (int64_t i = 0; s == LT_OK && i < 2 * n; i++)
            xy[i] = out->data[i];
    }
    free(faces), free(src), free(dst), free(x);
    return s;
}

/* The vertices on boundary edges tagged tag (on[v] = 1). */
static void tag_vertices(const lt_mesh *m, int tag, uint8_t *on)
{
    memset(on, 0, (size_t)m->nv);
    for (int e = 0; e < m->nb; e++)
        if (m->btag[e] == tag)
            on[m->bedge[2 * e]] = on[m->bedge[2 * e + 1]] = 1;
}

lt_status lt_m2n_corners(const lt_mesh *m, int num_boundary, float *corners)
{
    if (!m || !corners || num_boundary < 3)
        return lt_set_error(LT_ERR_ARG, "m2n_corners: NULL mesh or fewer "
                            "than 3 sides");
    uint8_t *a = malloc((size_t)m->nv), *b = malloc((size_t)m->nv);
    lt_status s = a && b ? LT_OK : lt_set_error(LT_ERR_NOMEM, "m2n_corners: "
                                                "out of memory");
    for (int k = 1; s == LT_OK && k <= num_boundary; k++) {
        int k1 = k == num_boundary ? 1 : k + 1, found = 0, at = -1;
        tag_vertices(m, k, a);
        tag_vertices(m, k1, b);
        for (int v = 0; v < m->nv; v++)
            if (a[v] && b[v])
                found++, at = v;
        if (found != 1) {
            s = lt_set_error(LT_ERR_ARG, "m2n_corners: sides %d and %d share "
                             "%d vertices (a polygon's corner is one)", k, k1,
                             found);
            break;
        }
        corners[2 * (k - 1)] = (float)m->xy[2 * at];
        corners[2 * (k - 1) + 1] = (float)m->xy[2 * at + 1];
    }
    free(a), free(b);
    return s;
}
