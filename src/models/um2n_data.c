/*
 * um2n_data.c - UM2N's Helmholtz data sets, as build_helmholtz_square.py
 * makes them and UM2N's loader reads them: per sample a random Gaussian
 * field, the Hessian monitor on the uniform mesh, the Monge-Ampere mesh
 * (the network's target), the P1 Helmholtz solutions and errors on both
 * meshes, and the network's inputs (x = coordinates and boundary flag,
 * mesh_feat = coordinates and the normalised monitor, the graph). One
 * safetensors file per sample, written atomically, so an interrupted
 * generation resumes by skipping the files that exist; the reader checks
 * every tensor, so a truncated or corrupt sample is an error naming it.
 */
#include "lethe/um2n.h"

#include "lethe/io.h"
#include "lethe/safetensors.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELD_COLS 6 /* mx, my, sx, sy, z, w */
#define SAMPLE_FORMAT "lethe-um2n-sample"
#define SET_FORMAT "lethe-um2n-data 1"
#define GEN_MAX_TRIES 20
#define CONV_GRID 20 /* processor.get_conv_feat's fixed 20 x 20 sampling */
#define CONV_TOL 1e-9

void lt_um2n_split(int64_t n, int64_t *train, int64_t *test, int64_t *val)
{
    /* the build script's int(n * p) with p = 0.75, 0.15, 0.1 */
    *train = (int64_t)((double)n * 0.75);
    *test = (int64_t)((double)n * 0.15);
    *val = (int64_t)((double)n * 0.1);
}

lt_status lt_um2n_features(const lt_mesh *m, const double *mon, float *x,
                           float *mesh_feat)
{
    uint8_t *on = calloc((size_t)m->nv, 1);
    if (!on)
        return lt_set_error(LT_ERR_NOMEM, "um2n_features: out of memory");
    lt_mesh_boundary_mask(m, on);
    double top = 0;
    for (int i = 0; i < m->nv; i++)
        top = fmax(top, fabs(mon[i]));
    for (int i = 0; i < m->nv; i++) {
        x[3 * i] = mesh_feat[3 * i] = (float)m->xy[2 * i];
        x[3 * i + 1] = mesh_feat[3 * i + 1] = (float)m->xy[2 * i + 1];
        x[3 * i + 2] = on[i] ? 1.0f : 0.0f;
        mesh_feat[3 * i + 2] = (float)(top > 0 ? mon[i] / top : mon[i]);
    }
    free(on);
    return LT_OK;
}

void lt_um2n_gen_opts_default(lt_um2n_gen_opts *o)
{
    memset(o, 0, sizeof *o);
    o->max_tries = GEN_MAX_TRIES;
    lt_ma_opts_default(&o->ma);
}

/* The random stream of try t of sample index. */
static uint64_t sample_seed(uint64_t seed, int64_t index, int t)
{
    uint64_t z = seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(index + 1));
    z ^= 0xbf58476d1ce4e5b9ULL * (uint64_t)(t + 1);
    z = (z ^ (z >> 31)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 29);
}

/* The P1 function v at (x, y) (the first triangle holding the point,
 * barycentric weights >= -CONV_TOL; 0 outside the mesh). */
static double p1_at(const lt_mesh *m, const double *v, double x, double y)
{
    for (int k = 0; k < m->nt; k++) {
        const int *t = m->tri + 3 * k;
        const double *a = m->xy + 2 * t[0], *b = m->xy + 2 * t[1],
                     *c = m->xy + 2 * t[2];
        double det = (b[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (b[1] - a[1]);
        double l1 = ((x - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (y - a[1])) / det;
        double l2 = ((b[0] - a[0]) * (y - a[1]) - (x - a[0]) * (b[1] - a[1])) / det;
        double l0 = 1 - l1 - l2;
        if (l0 >= -CONV_TOL && l1 >= -CONV_TOL && l2 >= -CONV_TOL)
            return l0 * v[t[0]] + l1 * v[t[1]] + l2 * v[t[2]];
    }
    return 0;
}

/* The monitor sampled on the 20 x 20 grid of the bounding box, entry
 * [i][j] at (x_i, y_j) (M2N's conv_monitor_val, before normalisation). */
static void conv_sample(const lt_mesh *m, const double *mon, float *out)
{
    double lo[2] = {m->xy[0], m->xy[1]}, hi[2] = {m->xy[0], m->xy[1]};
    for (int i = 0; i < m->nv; i++)
        for (int d = 0; d < 2; d++) {
            lo[d] = fmin(lo[d], m->xy[2 * i + d]);
            hi[d] = fmax(hi[d], m->xy[2 * i + d]);
        }
    for (int i = 0; i < CONV_GRID; i++)
        for (int j = 0; j < CONV_GRID; j++) {
            double x = lo[0] + (hi[0] - lo[0]) * i / (CONV_GRID - 1);
            double y = lo[1] + (hi[1] - lo[1]) * j / (CONV_GRID - 1);
            out[CONV_GRID * i + j] = (float)p1_at(m, mon, x, y);
        }
}

/* ---- writing ------------------------------------------------------------ */

typedef struct {
    float *x, *feat, *y, *face, *edge, *bedge, *btag, *mon, *uh, *uh_ma;
    float field[LT_FIELD_MAX_BUMPS * FIELD_COLS];
    float conv[CONV_GRID * CONV_GRID];
} sample_bufs;

static void bufs_free(sample_bufs *b)
{
    free(b->x), free(b->feat), free(b->y), free(b->face), free(b->edge);
    free(b->bedge), free(b->btag), free(b->mon), free(b->uh), free(b->uh_ma);
}

static lt_status save_sample(const char *path, const lt_mesh *m,
                             const lt_mesh *moved, const lt_gauss_field *f,
                             const double *mon, const double *uh,
                             const double *uh_ma, int64_t index,
                             const lt_um2n_gen_info *info)
{
    int64_t n = m->nv, nf = m->nt, nb = m->nb, ne = 0;
    int32_t *faces = malloc((size_t)nf * 3 * sizeof *faces), *src = NULL,
            *dst = NULL;
    sample_bufs b = {0};
    b.x = malloc((size_t)n * 3 * sizeof(float));
    b.feat = malloc((size_t)n * 3 * sizeof(float));
    b.y = malloc((size_t)n * 2 * sizeof(float));
    b.face = malloc((size_t)nf * 3 * sizeof(float));
    b.bedge = malloc((size_t)nb * 2 * sizeof(float));
    b.btag = malloc((size_t)nb * sizeof(float));
    b.mon = malloc((size_t)n * sizeof(float));
    b.uh = malloc((size_t)n * sizeof(float));
    b.uh_ma = malloc((size_t)n * sizeof(float));
    lt_status s = LT_OK;
    if (!faces || !b.x || !b.feat || !b.y || !b.face || !b.bedge || !b.btag ||
        !b.mon || !b.uh || !b.uh_ma) {
        s = lt_set_error(LT_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    for (int64_t i = 0; i < 3 * nf; i++) {
        faces[i] = m->tri[i];
        b.face[i] = (float)m->tri[i];
    }
    if ((s = lt_um2n_edges(faces, nf, n, &src, &dst, &ne)) != LT_OK)
        goto done;
    if (!(b.edge = malloc((size_t)ne * 2 * sizeof(float)))) {
        s = lt_set_error(LT_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    for (int64_t e = 0; e < ne; e++) {
        b.edge[e] = (float)src[e];
        b.edge[ne + e] = (float)dst[e];
    }
    if ((s = lt_um2n_features(m, mon, b.x, b.feat)) != LT_OK)
        goto done;
    for (int64_t i = 0; i < n; i++) {
        b.y[2 * i] = (float)moved->xy[2 * i];
        b.y[2 * i + 1] = (float)moved->xy[2 * i + 1];
        b.mon[i] = (float)mon[i];
        b.uh[i] = (float)uh[i];
        b.uh_ma[i] = (float)uh_ma[i];
    }
    for (int64_t e = 0; e < nb; e++) {
        b.bedge[2 * e] = (float)m->bedge[2 * e];
        b.bedge[2 * e + 1] = (float)m->bedge[2 * e + 1];
        b.btag[e] = (float)m->btag[e];
    }
    conv_sample(m, mon, b.conv);
    for (int k = 0; k < f->n; k++) {
        float *r = b.field + FIELD_COLS * k;
        r[0] = (float)f->mx[k], r[1] = (float)f->my[k];
        r[2] = (float)f->sx[k], r[3] = (float)f->sy[k];
        r[4] = (float)f->z[k], r[5] = (float)f->w[k];
    }
    lt_st_tensor t[] = {
        {"x", 2, {n, 3}, 0, b.x},
        {"mesh_feat", 2, {n, 3}, 0, b.feat},
        {"y", 2, {n, 2}, 0, b.y},
        {"face", 2, {nf, 3}, 0, b.face},
        {"edge_index", 2, {2, ne}, 0, b.edge},
        {"bd_edge", 2, {nb, 2}, 0, b.bedge},
        {"bd_tag", 1, {nb}, 0, b.btag},
        {"monitor_val", 1, {n}, 0, b.mon},
        {"uh", 1, {n}, 0, b.uh},
        {"uh_ma", 1, {n}, 0, b.uh_ma},
        {"field", 2, {f->n, FIELD_COLS}, 0, b.field},
        {"conv_monitor_val", 3, {1, CONV_GRID, CONV_GRID}, 0, b.conv},
    };
    char idx[32], tries[16], iters[16], tangled[16], e0[40], e1[40], sec[40];
    snprintf(idx, sizeof idx, "%" PRId64, index);
    snprintf(tries, sizeof tries, "%d", info->tries);
    snprintf(iters, sizeof iters, "%d", info->ma_iters);
    snprintf(tangled, sizeof tangled, "%d", info->tangled);
    snprintf(e0, sizeof e0, "%.17g", info->err_uniform);
    snprintf(e1, sizeof e1, "%.17g", info->err_ma);
    snprintf(sec, sizeof sec, "%.6f", info->ma_seconds);
    const char *meta[] = {"format", SAMPLE_FORMAT, "index", idx,
                          "iso", f->iso ? "1" : "0", "tries", tries,
                          "ma_iters", iters, "ma_tangled", tangled,
                          "ma_seconds", sec, "error_uniform", e0,
                          "error_ma", e1};
    s = lt_st_save(path, t, (int)(sizeof t / sizeof *t), meta,
                   (int)(sizeof meta / sizeof *meta / 2));
done:
    free(faces), free(src), free(dst);
    bufs_free(&b);
    return s;
}

/* One try: draw, monitor, MA, solves. LT_ERR_STATE: MA did not converge. */
static lt_status try_sample(const lt_mesh *m, const lt_um2n_gen_opts *o,
                            lt_rng *r, lt_gauss_field *f, lt_mesh *moved,
                            lt_um2n_gen_info *info)
{
    lt_status s = lt_gauss_field_random(f, r, LT_FIELD_MAX_BUMPS, 0, o->iso);
    if (s != LT_OK)
        return s;
    lt_ma_result res = {0};
    s = lt_ma_move(m, lt_um2n_monitor_fn, f, &o->ma, moved, &res);
    info->ma_iters = res.iters;
    info->ma_seconds = res.seconds;
    info->tangled = res.tangled;
    lt_ma_result_free(&res);
    return s;
}

lt_status lt_um2n_sample_generate(const lt_mesh *m, const lt_um2n_gen_opts *o,
                                  int64_t index, const char *path,
                                  lt_um2n_gen_info *info)
{
    if (!m || !o || !path || index < 0 || o->max_tries < 1)
        return lt_set_error(LT_ERR_ARG, "um2n_sample_generate: bad argument");
    lt_um2n_gen_info local = {0};
    info = info ? info : &local;
    memset(info, 0, sizeof *info);
    lt_gauss_field f;
    lt_mesh moved = {0};
    lt_status s = LT_ERR_STATE;
    /* LT_ERR_STATE: MA diverged or ran out of iterations; LT_ERR_NAN: the
     * monitor could not be formed (a flat field, every height 0), where
     * the original's NaN monitor fails its solver in the same way */
    for (int t = 0; t < o->max_tries && (s == LT_ERR_STATE || s == LT_ERR_NAN);
         t++) {
        lt_rng r;
        lt_rng_init(&r, sample_seed(o->seed, index, t));
        lt_mesh_free(&moved);
        info->tries = t + 1;
        s = try_sample(m, o, &r, &f, &moved, info);
    }
    if (s == LT_ERR_STATE || s == LT_ERR_NAN)
        s = lt_set_error(s, "%s: %d fields in a row failed, the last with: "
                         "%s", path, o->max_tries, lt_last_error());
    double *mon = malloc((size_t)m->nv * 3 * sizeof(double));
    if (s == LT_OK && !mon)
        s = lt_set_error(LT_ERR_NOMEM, "%s: out of memory", path);
    if (s == LT_OK)
        s = lt_um2n_monitor(m, &f, mon, mon + m->nv, NULL);
    if (s == LT_OK)
        s = lt_helmholtz_solve(&moved, &f, mon + 2 * m->nv);
    if (s == LT_OK)
        s = lt_helmholtz_error(m, &f, &info->err_uniform, NULL);
    if (s == LT_OK)
        s = lt_helmholtz_error(&moved, &f, &info->err_ma, NULL);
    if (s == LT_OK)
        s = save_sample(path, m, &moved, &f, mon, mon + m->nv,
                        mon + 2 * m->nv, index, info);
    free(mon);
    lt_mesh_free(&moved);
    return s;
}

/* ---- reading ------------------------------------------------------------ */

void lt_um2n_item_free(lt_um2n_item *it)
{
    if (!it)
        return;
    /* dst points into src's allocation */
    free(it->x), free(it->mesh_feat), free(it->target), free(it->faces);
    free(it->src), free(it->monitor), free(it->uh);
    free(it->uh_ma);
    lt_mesh_free(&it->mesh);
    memset(it, 0, sizeof *it);
}

/* The tensor name of f with ndim dims, dim 0 = d0 (-1: any) and dim 1 =
 * d1 (when ndim is 2; -1: any), all values finite. */
static const lt_st_tensor *want(const lt_st_file *f, const char *path,
                                const char *name, int ndim, int64_t d0,
                                int64_t d1)
{
    const lt_st_tensor *t = lt_st_get(f, name);
    if (!t) {
        lt_set_error(LT_ERR_FORMAT, "%s: not a UM2N sample (no tensor %s)",
                     path, name);
        return NULL;
    }
    if (t->ndim != ndim || (d0 >= 0 && t->shape[0] != d0) ||
        (ndim == 2 && d1 >= 0 && t->shape[1] != d1) || t->numel < 1) {
        lt_set_error(LT_ERR_FORMAT, "%s: tensor %s has the wrong shape",
                     path, name);
        return NULL;
    }
    for (int64_t i = 0; i < t->numel; i++)
        if (!isfinite(t->data[i])) {
            lt_set_error(LT_ERR_FORMAT, "%s: tensor %s holds a value that "
                         "is not finite", path, name);
            return NULL;
        }
    return t;
}

/* The whole numbers of t in [0, hi) into out (malloc'd). */
static int32_t *indices(const lt_st_tensor *t, const char *path, int64_t hi)
{
    int32_t *out = malloc((size_t)t->numel * sizeof *out);
    if (!out) {
        lt_set_error(LT_ERR_NOMEM, "%s: out of memory", path);
        return NULL;
    }
    for (int64_t i = 0; i < t->numel; i++) {
        float v = t->data[i];
        if (v != floorf(v) || v < 0 || v >= (float)hi) {
            lt_set_error(LT_ERR_FORMAT, "%s: tensor %s: entry %lld (%g) is "
                         "not an index below %lld", path, t->name,
                         (long long)i, (double)v, (long long)hi);
            free(out);
            return NULL;
        }
        out[i] = (int32_t)v;
    }
    return out;
}

static float *copy_of(const lt_st_tensor *t, const char *path)
{
    float *p = malloc((size_t)t->numel * sizeof *p);
    if (!p)
        lt_set_error(LT_ERR_NOMEM, "%s: out of memory", path);
    else
        memcpy(p, t->data, (size_t)t->numel * sizeof *p);
    return p;
}

static bool meta_num(const lt_st_file *f, const char *key, double *v)
{
    const char *s = lt_st_meta(f, key);
    char *end = NULL;
    if (s)
        *v = strtod(s, &end);
    return s && end != s && !*end && isfinite(*v);
}

/* The uniform mesh of the sample (coordinates from x). */
static lt_status item_mesh(lt_um2n_item *it, const lt_st_tensor *be,
                           const lt_st_tensor *bt, const char *path)
{
    int64_t n = it->s.n_nodes;
    int32_t *bedge = indices(be, path, n);
    if (!bedge)
        return lt_last_status();
    lt_status s = lt_mesh_alloc(&it->mesh, (int)n, (int)it->s.n_faces,
                                (int)bt->numel);
    if (s == LT_OK) {
        for (int64_t i = 0; i < n; i++) {
            it->mesh.xy[2 * i] = it->x[3 * i];
            it->mesh.xy[2 * i + 1] = it->x[3 * i + 1];
        }
        memcpy(it->mesh.tri, it->faces, (size_t)it->s.n_faces * 3 * sizeof(int));
        memcpy(it->mesh.bedge, bedge, (size_t)be->numel * sizeof(int));
        for (int64_t e = 0; e < bt->numel; e++)
            it->mesh.btag[e] = (int)bt->data[e];
        s = lt_mesh_finalize(&it->mesh, path);
    }
    free(bedge);
    return s;
}

static lt_status item_field(lt_um2n_item *it, const lt_st_file *f,
                            const char *path)
{
    const lt_st_tensor *t = want(f, path, "field", 2, -1, FIELD_COLS);
    double iso = 0;
    if (!t)
        return lt_last_status();
    if (t->shape[0] > LT_FIELD_MAX_BUMPS || !meta_num(f, "iso", &iso))
        return lt_set_error(LT_ERR_FORMAT, "%s: bad field (%lld bumps, at "
                            "most %d) or no iso entry", path,
                            (long long)t->shape[0], LT_FIELD_MAX_BUMPS);
    lt_gauss_field *g = &it->field;
    memset(g, 0, sizeof *g);
    g->n = (int)t->shape[0];
    g->iso = iso != 0;
    for (int k = 0; k < g->n; k++) {
        const float *r = t->data + FIELD_COLS * k;
        g->mx[k] = r[0], g->my[k] = r[1], g->sx[k] = r[2];
        g->sy[k] = r[3], g->z[k] = r[4], g->w[k] = r[5];
    }
    return LT_OK;
}

static lt_status item_fill(lt_um2n_item *it, const lt_st_file *f,
                           const char *path)
{
    const char *fmt = lt_st_meta(f, "format");
    double idx = -1;
    if (!fmt || strcmp(fmt, SAMPLE_FORMAT) || !meta_num(f, "index", &idx) ||
        !meta_num(f, "error_uniform", &it->err_uniform) ||
        !meta_num(f, "error_ma", &it->err_ma))
        return lt_set_error(LT_ERR_FORMAT, "%s: not a UM2N sample (format, "
                            "index or errors missing)", path);
    it->index = (int64_t)idx;
    const lt_st_tensor *x = want(f, path, "x", 2, -1, 3);
    if (!x)
        return lt_last_status();
    int64_t n = x->shape[0];
    const lt_st_tensor *mf = want(f, path, "mesh_feat", 2, n, 3),
                       *y = mf ? want(f, path, "y", 2, n, 2) : NULL,
                       *fa = y ? want(f, path, "face", 2, -1, 3) : NULL,
                       *ei = fa ? want(f, path, "edge_index", 2, 2, -1) : NULL,
                       *be = ei ? want(f, path, "bd_edge", 2, -1, 2) : NULL,
                       *bt = be ? want(f, path, "bd_tag", 1, be->shape[0], 0)
                                : NULL,
                       *mo = bt ? want(f, path, "monitor_val", 1, n, 0) : NULL,
                       *u0 = mo ? want(f, path, "uh", 1, n, 0) : NULL,
                       *u1 = u0 ? want(f, path, "uh_ma", 1, n, 0) : NULL;
    if (!u1)
        return lt_last_status();
    int64_t ne = ei->shape[1];
    if (!(it->x = copy_of(x, path)) || !(it->mesh_feat = copy_of(mf, path)) ||
        !(it->target = copy_of(y, path)) ||
        !(it->monitor = copy_of(mo, path)) || !(it->uh = copy_of(u0, path)) ||
        !(it->uh_ma = copy_of(u1, path)) ||
        !(it->faces = indices(fa, path, n)) ||
        !(it->src = indices(ei, path, n)))
        return lt_last_status();
    it->dst = it->src + ne; /* one allocation: [src | dst] */
    it->s = (lt_um2n_sample){n, it->x, it->mesh_feat, it->target, it->faces,
                             fa->shape[0], it->src, it->dst, ne};
    lt_status s = item_mesh(it, be, bt, path);
    return s == LT_OK ? item_field(it, f, path) : s;
}

lt_status lt_um2n_item_read(const char *path, lt_um2n_item *it)
{
    if (!path || !it)
        return lt_set_error(LT_ERR_ARG, "um2n_item_read: NULL argument");
    memset(it, 0, sizeof *it);
    lt_st_file *f;
    lt_status s = lt_st_load(path, &f);
    if (s != LT_OK)
        return s;
    s = item_fill(it, f, path);
    lt_st_free(f);
    if (s != LT_OK)
        lt_um2n_item_free(it);
    return s;
}

/* ---- data set folders ----------------------------------------------------- */

void lt_um2n_sample_path(const char *dir, int64_t index, char *out, size_t n)
{
    snprintf(out, n, "%s/data/data_%04lld.safetensors", dir, (long long)index);
}

void lt_um2n_data_free(lt_um2n_data *d)
{
    if (!d)
        return;
    for (int64_t i = 0; d->items && i < d->n; i++)
        lt_um2n_item_free(&d->items[i]);
    free(d->items);
    free(d->samples);
    memset(d, 0, sizeof *d);
}

/* The size and split of the set in dir (its dataset.txt). */
static lt_status read_set(const char *dir, int64_t *n, int64_t split[3])
{
    char path[4096];
    snprintf(path, sizeof path, "%s/dataset.txt", dir);
    char *text = NULL;
    size_t len = 0;
    if (lt_read_file(path, &text, &len) != LT_OK)
        return lt_set_error(LT_ERR_IO, "%s: cannot read it (is %s a data set "
                            "made by `lethe mesh data`?)", path, dir);
    long long a = -1, b = -1, c = -1, m = -1;
    const char *ps = strstr(text, "\nsamples "), *pp = strstr(text, "\nsplit ");
    bool ok = !strncmp(text, SET_FORMAT "\n", strlen(SET_FORMAT) + 1) && ps &&
              pp && sscanf(ps, "\nsamples %lld", &m) == 1 &&
              sscanf(pp, "\nsplit %lld %lld %lld", &a, &b, &c) == 3 &&
              m > 0 && a >= 0 && b >= 0 && c >= 0 && a + b + c <= m;
    free(text);
    if (!ok)
        return lt_set_error(LT_ERR_FORMAT, "%s: not a UM2N data set "
                            "description (expected '%s', samples, split)",
                            path, SET_FORMAT);
    *n = m;
    split[0] = a, split[1] = b, split[2] = c;
    return LT_OK;
}

lt_status lt_um2n_data_open(const char *dir, const char *split,
                            lt_um2n_data *d)
{
    if (!dir || !split || !d)
        return lt_set_error(LT_ERR_ARG, "um2n_data_open: NULL argument");
    memset(d, 0, sizeof *d);
    int64_t n = 0, sp[3] = {0, 0, 0}, lo, hi;
    lt_status s = read_set(dir, &n, sp);
    if (s != LT_OK)
        return s;
    if (!strcmp(split, "train"))
        lo = 0, hi = sp[0];
    else if (!strcmp(split, "test"))
        lo = sp[0], hi = sp[0] + sp[1];
    else if (!strcmp(split, "val"))
        lo = sp[0] + sp[1], hi = sp[0] + sp[1] + sp[2];
    else if (!strcmp(split, "all"))
        lo = 0, hi = n;
    else
        return lt_set_error(LT_ERR_ARG, "%s: unknown split '%s' (train, test, "
                            "val or all)", dir, split);
    d->items = calloc((size_t)(hi > lo ? hi - lo : 1), sizeof *d->items);
    d->samples = calloc((size_t)(hi > lo ? hi - lo : 1), sizeof *d->samples);
    if (!d->items || !d->samples) {
        lt_um2n_data_free(d);
        return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", dir);
    }
    for (int64_t i = lo; i < hi; i++) {
        char path[4096];
        lt_um2n_sample_path(dir, i, path, sizeof path);
        FILE *fp = fopen(path, "rb");
        if (!fp)
            s = lt_set_error(LT_ERR_FORMAT, "%s: missing (the data set is "
                             "unfinished: rerun `lethe mesh data` with the "
                             "same options to complete it)", path);
        else
            fclose(fp);
        if (s == LT_OK)
            s = lt_um2n_item_read(path, &d->items[i - lo]);
        if (s == LT_OK && d->items[i - lo].index != i)
            s = lt_set_error(LT_ERR_FORMAT, "%s: holds sample %lld",
                             path, (long long)d->items[i - lo].index);
        if (s != LT_OK) {
            d->n = i - lo + 1;
            lt_um2n_data_free(d);
            return s;
        }
        d->samples[i - lo] = d->items[i - lo].s;
        d->n = i - lo + 1;
    }
    return LT_OK;
}
