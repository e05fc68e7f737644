/*
 * picture.c - PNG pictures of a mesh: every triangle edge drawn as a
 * one-pixel line (Bresenham) in dark grey on white, boundary edges in red;
 * or a field on the mesh (P1 at the vertices, or DG1 per cell corner),
 * each triangle filled pixel by pixel with the linear interpolant through a
 * blue-to-yellow colour ramp. The mesh's bounding box is scaled to fit with
 * a margin, y pointing up. Kept self-contained (no plotting library) so it
 * has no dependency beyond libpng through lethe/png.h.
 */
#include "lethe/mesh.h"
#include "lethe/png.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PIC_MARGIN 0.04 /* of the picture's side, on every side */

typedef struct {
    uint8_t *pix;
    int size;
} pic_canvas;

static void pic_dot(pic_canvas *c, int x, int y, const uint8_t rgb[3])
{
    if (x < 0 || y < 0 || x >= c->size || y >= c->size)
        return;
    memcpy(c->pix + 3 * ((size_t)y * c->size + x), rgb, 3);
}

static void pic_line(pic_canvas *c, int x0, int y0, int x1, int y1,
                     const uint8_t rgb[3])
{
    int dx = abs(x1 - x0), dy = -abs(y1 - y0);
    int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, err = dx + dy;
    for (;;) {
        pic_dot(c, x0, y0, rgb);
        if (x0 == x1 && y0 == y1)
            return;
        int e2 = 2 * err;
        if (e2 >= dy) {
            err += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            err += dx;
            y0 += sy;
        }
    }
}

/* The mapping of the mesh's bounding box onto a size x size canvas. */
typedef struct {
    double lo[2], scale, off;
} pic_frame;

static lt_status pic_setup(const lt_mesh *m, int size, pic_frame *fr,
                           pic_canvas *c)
{
    if (size < 16 || size > 8192)
        return lt_set_error(LT_ERR_ARG, "mesh picture: size %d, expected "
                            "16..8192", size);
    double lo[2] = {m->xy[0], m->xy[1]}, hi[2] = {m->xy[0], m->xy[1]};
    for (int i = 0; i < m->nv; i++)
        for (int d = 0; d < 2; d++) {
            lo[d] = fmin(lo[d], m->xy[2 * i + d]);
            hi[d] = fmax(hi[d], m->xy[2 * i + d]);
        }
    double span = fmax(hi[0] - lo[0], hi[1] - lo[1]);
    if (!(span > 0) || !isfinite(span))
        return lt_set_error(LT_ERR_ARG, "mesh picture: the mesh has no extent");
    c->size = size;
    c->pix = malloc(3 * (size_t)size * size);
    if (!c->pix)
        return lt_set_error(LT_ERR_NOMEM, "mesh picture: out of memory");
    memset(c->pix, 255, 3 * (size_t)size * size);
    fr->lo[0] = lo[0];
    fr->lo[1] = lo[1];
    fr->scale = (size - 1) * (1 - 2 * PIC_MARGIN) / span;
    fr->off = (size - 1) * PIC_MARGIN;
    return LT_OK;
}

lt_status lt_mesh_png(const char *path, const lt_mesh *m, int size)
{
    pic_frame fr;
    pic_canvas c;
    lt_status s = pic_setup(m, size, &fr, &c);
    if (s != LT_OK)
        return s;
    double scale = fr.scale, off = fr.off, lo[2] = {fr.lo[0], fr.lo[1]};
    const uint8_t grey[3] = {40, 40, 40}, red[3] = {200, 0, 0};
#define PX(v) ((int)lround(off + (m->xy[2 * (v)] - lo[0]) * scale))
#define PY(v) ((int)lround(size - 1 - off - (m->xy[2 * (v) + 1] - lo[1]) * scale))
    for (int k = 0; k < m->nt; k++)
        for (int j = 0; j < 3; j++) {
            int a = m->tri[3 * k + j], b = m->tri[3 * k + (j + 1) % 3];
            pic_line(&c, PX(a), PY(a), PX(b), PY(b), grey);
        }
    for (int e = 0; e < m->nb; e++) {
        int a = m->bedge[2 * e], b = m->bedge[2 * e + 1];
        pic_line(&c, PX(a), PY(a), PX(b), PY(b), red);
    }
#undef PX
#undef PY
    s = lt_png_write(path, size, size, 3, c.pix);
    free(c.pix);
    return s;
}

/* A blue - teal - green - yellow ramp at t in [0, 1]. */
static void pic_ramp(double t, uint8_t rgb[3])
{
    static const double stop[5][3] = {{68, 1, 84}, {59, 82, 139},
                                      {33, 145, 140}, {94, 201, 98},
                                      {253, 231, 37}};
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    int i = t >= 1 ? 3 : (int)(t * 4);
    double f = t * 4 - i;
    for (int d = 0; d < 3; d++)
        rgb[d] = (uint8_t)lround(stop[i][d] + f * (stop[i + 1][d] - stop[i][d]));
}

/* Fill triangle k with the linear interpolant of v[3] (its corners). */
static void pic_fill(pic_canvas *c, const pic_frame *fr, const lt_mesh *m,
                     int k, const double v[3], double vlo, double vhi)
{
    double px[3], py[3];
    for (int j = 0; j < 3; j++) {
        const double *p = m->xy + 2 * m->tri[3 * k + j];
        px[j] = fr->off + (p[0] - fr->lo[0]) * fr->scale;
        py[j] = c->size - 1 - fr->off - (p[1] - fr->lo[1]) * fr->scale;
    }
    double det = (px[1] - px[0]) * (py[2] - py[0]) - (px[2] - px[0]) * (py[1] - py[0]);
    if (det == 0)
        return;
    int x0 = (int)floor(fmin(px[0], fmin(px[1], px[2]))),
        x1 = (int)ceil(fmax(px[0], fmax(px[1], px[2]))),
        y0 = (int)floor(fmin(py[0], fmin(py[1], py[2]))),
        y1 = (int)ceil(fmax(py[0], fmax(py[1], py[2])));
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) {
            double l1 = ((x - px[0]) * (py[2] - py[0]) - (px[2] - px[0]) * (y - py[0])) / det,
                   l2 = ((px[1] - px[0]) * (y - py[0]) - (x - px[0]) * (py[1] - py[0])) / det,
                   l0 = 1 - l1 - l2, eps = -1e-9;
            if (l0 < eps || l1 < eps || l2 < eps)
                continue;
            uint8_t rgb[3];
            double val = l0 * v[0] + l1 * v[1] + l2 * v[2];
            pic_ramp(vhi > vlo ? (val - vlo) / (vhi - vlo) : 0.5, rgb);
            pic_dot(c, x, y, rgb);
        }
}

lt_status lt_mesh_png_field(const char *path, const lt_mesh *m,
                            const double *val, bool dg, int size)
{
    int nval = dg ? 3 * m->nt : m->nv;
    double vlo = val[0], vhi = val[0];
    for (int i = 0; i < nval; i++) {
        if (!isfinite(val[i]))
            return lt_set_error(LT_ERR_NAN, "field picture: value %d is %g",
                                i, val[i]);
        vlo = fmin(vlo, val[i]);
        vhi = fmax(vhi, val[i]);
    }
    pic_frame fr;
    pic_canvas c;
    lt_status s = pic_setup(m, size, &fr, &c);
    if (s != LT_OK)
        return s;
    for (int k = 0; k < m->nt; k++) {
        double v[3];
        for (int j = 0; j < 3; j++)
            v[j] = dg ? val[3 * k + j] : val[m->tri[3 * k + j]];
        pic_fill(&c, &fr, m, k, v, vlo, vhi);
    }
    s = lt_png_write(path, size, size, 3, c.pix);
    free(c.pix);
    return s;
}
