/*
 * um2n_move.c - a trained UM2N or M2N network moving one mesh: the inputs
 * UM2N's loader builds for a mesh and its monitor (lt_um2n_features, the
 * edges of processor.find_edges), one forward pass with dropout off, the
 * output coordinates. Used by `lethe mesh move --method um2n|m2n` and by
 * `lethe bench um2n`'s swirl case, where the network moves the mesh at
 * every time step.
 */
#include "lethe/um2n.h"

#include <stdlib.h>

lt_status lt_um2n_move_mesh(lt_ctx *c, lt_um2n *net, const lt_mesh *m,
                            const double *mon, double *xy, double *seconds)
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
    if (s == LT_OK) {
        lt_um2n_batch b = {n, 1, x, x + 3 * n, src, dst, ne, faces, m->nt,
                           NULL, 0};
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
