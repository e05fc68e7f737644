/*
 * picture.c - a PNG picture of a mesh: every triangle edge drawn as a
 * one-pixel line (Bresenham) in dark grey on white, boundary edges in red,
 * the mesh's bounding box scaled to fit with a margin, y pointing up. Kept
 * self-contained (no plotting library) so it has no dependency beyond
 * libpng through lethe/png.h.
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

lt_status lt_mesh_png(const char *path, const lt_mesh *m, int size)
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
    pic_canvas c = {malloc(3 * (size_t)size * size), size};
    if (!c.pix)
        return lt_set_error(LT_ERR_NOMEM, "mesh picture: out of memory");
    memset(c.pix, 255, 3 * (size_t)size * size);
    double scale = (size - 1) * (1 - 2 * PIC_MARGIN) / span,
           off = (size - 1) * PIC_MARGIN;
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
    lt_status s = lt_png_write(path, size, size, 3, c.pix);
    free(c.pix);
    return s;
}
