/*
 * msh.c - gmsh .msh files, format 4.1 ASCII: the reader (strict: anything it
 * does not understand is an error naming the file, the line and the
 * problem) and the writer (one curve entity per boundary tag, one surface).
 * Sections other than MeshFormat, Entities, Nodes and Elements (physical
 * names, periodic links, post-processing data) are skipped.
 */
#include "lethe/io.h"
#include "lethe/mesh.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The physical tag the writer gives the surface (gmsh's own squares use 5,
 * after the four sides). */
#define LT_MSH_SURFACE_TAG 5
/* The largest node tag accepted (tags index a lookup table). */
#define MSH_MAX_TAG 50000000L

typedef struct {
    const char *path;
    const char *p;
    int line;
    size_t len; /* bytes in the file: bounds the counts a header may claim */
} msh_reader;

/* A count the rest of the file cannot hold (each item takes at least
 * min_bytes) is a truncated file, caught before anything is allocated. */
static lt_status rd_fits(msh_reader *r, long n, size_t min_bytes,
                         const char *what)
{
    if ((size_t)n > r->len / min_bytes)
        return lt_set_error(LT_ERR_FORMAT, "%s:%d: truncated: %ld %s cannot "
                            "fit in a file of %zu bytes", r->path, r->line, n,
                            what, r->len);
    return LT_OK;
}

/* Skip blanks and newlines (counting lines). */
static void rd_space(msh_reader *r)
{
    while (*r->p == ' ' || *r->p == '\t' || *r->p == '\r' || *r->p == '\n') {
        if (*r->p == '\n')
            r->line++;
        r->p++;
    }
}

static lt_status rd_bad(msh_reader *r, const char *what)
{
    return lt_set_error(LT_ERR_FORMAT, "%s:%d: %s", r->path, r->line, what);
}

static lt_status rd_eof(msh_reader *r, const char *what)
{
    return lt_set_error(LT_ERR_FORMAT, "%s:%d: truncated: the file ends where "
                        "%s was expected", r->path, r->line, what);
}

static lt_status rd_long(msh_reader *r, long *v, long lo, long hi,
                         const char *what)
{
    rd_space(r);
    if (!*r->p)
        return rd_eof(r, what);
    char *end;
    errno = 0;
    long x = strtol(r->p, &end, 10);
    if (end == r->p || errno || (*end && !strchr(" \t\r\n", *end)))
        return lt_set_error(LT_ERR_FORMAT, "%s:%d: expected an integer (%s)",
                            r->path, r->line, what);
    if (x < lo || x > hi)
        return lt_set_error(LT_ERR_FORMAT, "%s:%d: %s = %ld, expected %ld..%ld",
                            r->path, r->line, what, x, lo, hi);
    r->p = end;
    *v = x;
    return LT_OK;
}

static lt_status rd_double(msh_reader *r, double *v, const char *what)
{
    rd_space(r);
    if (!*r->p)
        return rd_eof(r, what);
    char *end;
    double x = strtod(r->p, &end);
    if (end == r->p || (*end && !strchr(" \t\r\n", *end)) || !isfinite(x))
        return lt_set_error(LT_ERR_FORMAT, "%s:%d: expected a finite number "
                            "(%s)", r->path, r->line, what);
    r->p = end;
    *v = x;
    return LT_OK;
}

/* The next word (a section marker), copied into buf. */
static lt_status rd_word(msh_reader *r, char *buf, size_t n)
{
    rd_space(r);
    size_t k = 0;
    while (*r->p && !strchr(" \t\r\n", *r->p)) {
        if (k + 1 < n)
            buf[k++] = *r->p;
        r->p++;
    }
    buf[k] = 0;
    return k ? LT_OK : rd_eof(r, "a section marker");
}

static lt_status rd_expect(msh_reader *r, const char *word)
{
    char buf[64];
    lt_status s = rd_word(r, buf, sizeof buf);
    if (s != LT_OK)
        return lt_set_error(LT_ERR_FORMAT, "%s:%d: truncated (expected %s)",
                            r->path, r->line, word);
    if (strcmp(buf, word))
        return lt_set_error(LT_ERR_FORMAT, "%s:%d: expected %s, found '%s'",
                            r->path, r->line, word, buf);
    return LT_OK;
}

/* Curve entity tag -> boundary tag (first physical tag, else the entity). */
typedef struct {
    long *ent, *phys;
    long n;
} msh_curves;

#define TRY(x)                                                               \
    do {                                                                     \
        lt_status s_ = (x);                                                  \
        if (s_ != LT_OK)                                                     \
            return s_;                                                       \
    } while (0)

static lt_status rd_format(msh_reader *r)
{
    double ver;
    long ftype, dsize;
    TRY(rd_double(r, &ver, "version"));
    if (ver != 4.1)
        return lt_set_error(LT_ERR_FORMAT, "%s: unsupported .msh version %g "
                            "(Lethe reads 4.1: gmsh -format msh41)", r->path, ver);
    TRY(rd_long(r, &ftype, 0, 1, "file-type"));
    if (ftype != 0)
        return lt_set_error(LT_ERR_FORMAT, "%s: binary .msh is not supported "
                            "(write it as ASCII: gmsh -format msh41 without "
                            "-bin)", r->path);
    TRY(rd_long(r, &dsize, 8, 8, "data-size"));
    return rd_expect(r, "$EndMeshFormat");
}

/* Skip n physical tags and a bounding list; record a curve's tag. */
static lt_status rd_entities(msh_reader *r, msh_curves *c)
{
    long np, nc, ns, nvol, tag, k, cnt;
    double x;
    TRY(rd_long(r, &np, 0, MSH_MAX_TAG, "numPoints"));
    TRY(rd_long(r, &nc, 0, MSH_MAX_TAG, "numCurves"));
    TRY(rd_long(r, &ns, 0, MSH_MAX_TAG, "numSurfaces"));
    TRY(rd_long(r, &nvol, 0, 0, "numVolumes (a 2-D mesh has none)"));
    TRY(rd_fits(r, nc, 8, "curves"));
    for (long i = 0; i < np; i++) {
        TRY(rd_long(r, &tag, 1, MSH_MAX_TAG, "point tag"));
        for (int j = 0; j < 3; j++)
            TRY(rd_double(r, &x, "point coordinate"));
        TRY(rd_long(r, &cnt, 0, 1000, "numPhysicalTags"));
        for (long j = 0; j < cnt; j++)
            TRY(rd_long(r, &k, -MSH_MAX_TAG, MSH_MAX_TAG, "physical tag"));
    }
    c->ent = malloc(sizeof(long) * (size_t)(nc ? nc : 1));
    c->phys = malloc(sizeof(long) * (size_t)(nc ? nc : 1));
    if (!c->ent || !c->phys)
        return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", r->path);
    for (long i = 0; i < nc + ns; i++) {
        TRY(rd_long(r, &tag, 1, MSH_MAX_TAG, "entity tag"));
        for (int j = 0; j < 6; j++)
            TRY(rd_double(r, &x, "bounding box"));
        TRY(rd_long(r, &cnt, 0, 1000, "numPhysicalTags"));
        long first = tag;
        for (long j = 0; j < cnt; j++) {
            TRY(rd_long(r, &k, -MSH_MAX_TAG, MSH_MAX_TAG, "physical tag"));
            if (j == 0)
                first = k;
        }
        if (i < nc) {
            c->ent[c->n] = tag;
            c->phys[c->n++] = first;
        }
        TRY(rd_long(r, &cnt, 0, MSH_MAX_TAG, "numBounding"));
        for (long j = 0; j < cnt; j++)
            TRY(rd_long(r, &k, -MSH_MAX_TAG, MSH_MAX_TAG, "bounding tag"));
    }
    return rd_expect(r, "$EndEntities");
}

typedef struct {
    long *tag2idx; /* [maxtag + 1], -1 when absent */
    long maxtag;
    double *xy;
    long nv;
} msh_nodes;

static lt_status rd_nodes(msh_reader *r, msh_nodes *nd)
{
    long nblocks, nnodes, mintag, maxtag, dim, ent, param, nin;
    TRY(rd_long(r, &nblocks, 0, MSH_MAX_TAG, "numEntityBlocks"));
    TRY(rd_long(r, &nnodes, 3, MSH_MAX_TAG, "numNodes"));
    TRY(rd_long(r, &mintag, 1, MSH_MAX_TAG, "minNodeTag"));
    TRY(rd_long(r, &maxtag, mintag, MSH_MAX_TAG, "maxNodeTag"));
    TRY(rd_fits(r, nnodes, 8, "nodes"));
    if (maxtag - mintag > 16 * nnodes + 1024)
        return lt_set_error(LT_ERR_FORMAT, "%s:%d: node tags %ld..%ld are too "
                            "sparse for %ld nodes (renumber the mesh)", r->path,
                            r->line, mintag, maxtag, nnodes);
    nd->maxtag = maxtag;
    nd->tag2idx = malloc(sizeof(long) * (size_t)(maxtag + 1));
    nd->xy = malloc(sizeof(double) * 2 * (size_t)nnodes);
    if (!nd->tag2idx || !nd->xy)
        return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", r->path);
    for (long i = 0; i <= maxtag; i++)
        nd->tag2idx[i] = -1;
    long seen = 0;
    for (long b = 0; b < nblocks; b++) {
        TRY(rd_long(r, &dim, 0, 3, "entityDim"));
        TRY(rd_long(r, &ent, 0, MSH_MAX_TAG, "entityTag"));
        TRY(rd_long(r, &param, 0, 1, "parametric"));
        TRY(rd_long(r, &nin, 0, nnodes - seen, "numNodesInBlock"));
        long *tags = malloc(sizeof(long) * (size_t)(nin ? nin : 1));
        if (!tags)
            return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", r->path);
        lt_status s = LT_OK;
        for (long i = 0; i < nin && s == LT_OK; i++) {
            s = rd_long(r, &tags[i], mintag, maxtag, "node tag");
            if (s == LT_OK && nd->tag2idx[tags[i]] >= 0)
                s = lt_set_error(LT_ERR_FORMAT, "%s:%d: node tag %ld given "
                                 "twice", r->path, r->line, tags[i]);
            if (s == LT_OK)
                nd->tag2idx[tags[i]] = seen + i;
        }
        int extra = param ? (int)dim : 0;
        for (long i = 0; i < nin && s == LT_OK; i++) {
            double c[3], u;
            for (int j = 0; j < 3 && s == LT_OK; j++)
                s = rd_double(r, &c[j], "node coordinate");
            for (int j = 0; j < extra && s == LT_OK; j++)
                s = rd_double(r, &u, "parametric coordinate");
            if (s == LT_OK && c[2] != 0)
                s = lt_set_error(LT_ERR_FORMAT, "%s:%d: node %ld has z = %g: "
                                 "only planar 2-D meshes are supported",
                                 r->path, r->line, tags[i], c[2]);
            if (s == LT_OK) {
                nd->xy[2 * (seen + i)] = c[0];
                nd->xy[2 * (seen + i) + 1] = c[1];
            }
        }
        free(tags);
        TRY(s);
        seen += nin;
    }
    if (seen != nnodes)
        return lt_set_error(LT_ERR_FORMAT, "%s:%d: %ld nodes listed, header "
                            "says %ld", r->path, r->line, seen, nnodes);
    nd->nv = nnodes;
    return rd_expect(r, "$EndNodes");
}

typedef struct {
    long *tri, ntri;     /* node indices */
    long *edge, nedge;   /* node indices */
    long *etag;          /* boundary tag of each edge */
} msh_elems;

static long curve_tag(const msh_curves *c, long ent)
{
    for (long i = 0; i < c->n; i++)
        if (c->ent[i] == ent)
            return c->phys[i];
    return ent;
}

static lt_status rd_node_ref(msh_reader *r, const msh_nodes *nd, long *idx)
{
    long tag;
    TRY(rd_long(r, &tag, 1, MSH_MAX_TAG, "element node tag"));
    if (tag > nd->maxtag || nd->tag2idx[tag] < 0)
        return lt_set_error(LT_ERR_FORMAT, "%s:%d: element refers to node %ld, "
                            "which is not in $Nodes", r->path, r->line, tag);
    *idx = nd->tag2idx[tag];
    return LT_OK;
}

static lt_status rd_elements(msh_reader *r, const msh_nodes *nd,
                             const msh_curves *cv, msh_elems *el)
{
    long nblocks, nel, mintag, maxtag, dim, ent, type, nin, etag, idx = 0;
    TRY(rd_long(r, &nblocks, 0, MSH_MAX_TAG, "numEntityBlocks"));
    TRY(rd_long(r, &nel, 1, MSH_MAX_TAG, "numElements"));
    TRY(rd_long(r, &mintag, 0, MSH_MAX_TAG, "minElementTag"));
    TRY(rd_long(r, &maxtag, 0, MSH_MAX_TAG, "maxElementTag"));
    TRY(rd_fits(r, nel, 4, "elements"));
    el->tri = malloc(sizeof(long) * 3 * (size_t)nel);
    el->edge = malloc(sizeof(long) * 2 * (size_t)nel);
    el->etag = malloc(sizeof(long) * (size_t)nel);
    if (!el->tri || !el->edge || !el->etag)
        return lt_set_error(LT_ERR_NOMEM, "%s: out of memory", r->path);
    long seen = 0;
    for (long b = 0; b < nblocks; b++) {
        TRY(rd_long(r, &dim, 0, 3, "entityDim"));
        TRY(rd_long(r, &ent, 0, MSH_MAX_TAG, "entityTag"));
        TRY(rd_long(r, &type, 1, 1000, "elementType"));
        TRY(rd_long(r, &nin, 0, nel - seen, "numElementsInBlock"));
        int nn = type == 1 ? 2 : type == 2 ? 3 : type == 15 ? 1 : 0;
        if (!nn)
            return lt_set_error(LT_ERR_FORMAT, "%s:%d: unsupported element "
                                "type %ld (Lethe reads 2-node lines, 3-node "
                                "triangles and points: a first-order 2-D "
                                "mesh)", r->path, r->line, type);
        if ((type == 1 && dim != 1) || (type == 2 && dim != 2))
            return lt_set_error(LT_ERR_FORMAT, "%s:%d: element type %ld on "
                                "an entity of dimension %ld", r->path,
                                r->line, type, dim);
        for (long i = 0; i < nin; i++) {
            TRY(rd_long(r, &etag, 0, MSH_MAX_TAG, "element tag"));
            for (int j = 0; j < nn; j++) {
                TRY(rd_node_ref(r, nd, &idx));
                if (type == 2)
                    el->tri[3 * el->ntri + j] = idx;
                else if (type == 1)
                    el->edge[2 * el->nedge + j] = idx;
            }
            if (type == 2)
                el->ntri++;
            else if (type == 1)
                el->etag[el->nedge++] = curve_tag(cv, ent);
        }
        seen += nin;
    }
    if (seen != nel)
        return lt_set_error(LT_ERR_FORMAT, "%s:%d: %ld elements listed, header "
                            "says %ld", r->path, r->line, seen, nel);
    return rd_expect(r, "$EndElements");
}

/* Skip an unknown section up to its $End marker. */
static lt_status rd_skip(msh_reader *r, const char *name)
{
    char end[96], buf[96];
    snprintf(end, sizeof end, "$End%.80s", name + 1);
    for (;;) {
        if (rd_word(r, buf, sizeof buf) != LT_OK)
            return lt_set_error(LT_ERR_FORMAT, "%s:%d: section %s has no %s",
                                r->path, r->line, name, end);
        if (!strcmp(buf, end))
            return LT_OK;
    }
}

static lt_status msh_build(msh_reader *r, const msh_nodes *nd,
                           const msh_elems *el, lt_mesh *m)
{
    if (el->ntri == 0)
        return lt_set_error(LT_ERR_FORMAT, "%s: no triangles", r->path);
    TRY(lt_mesh_alloc(m, (int)nd->nv, (int)el->ntri, (int)el->nedge));
    memcpy(m->xy, nd->xy, sizeof(double) * 2 * (size_t)nd->nv);
    for (long i = 0; i < 3 * el->ntri; i++)
        m->tri[i] = (int)el->tri[i];
    for (long i = 0; i < el->nedge; i++) {
        m->bedge[2 * i] = (int)el->edge[2 * i];
        m->bedge[2 * i + 1] = (int)el->edge[2 * i + 1];
        m->btag[i] = (int)el->etag[i];
    }
    lt_status s = lt_mesh_finalize(m, r->path);
    if (s != LT_OK)
        lt_mesh_free(m);
    return s;
}

static lt_status msh_parse(msh_reader *r, lt_mesh *m, msh_curves *cv,
                           msh_nodes *nd, msh_elems *el)
{
    char word[80];
    TRY(rd_word(r, word, sizeof word));
    if (strcmp(word, "$MeshFormat"))
        return lt_set_error(LT_ERR_FORMAT, "%s: not a gmsh .msh file (no "
                            "$MeshFormat at the start)", r->path);
    TRY(rd_format(r));
    bool have_nodes = false, have_elems = false;
    for (;;) {
        rd_space(r);
        if (!*r->p)
            break;
        TRY(rd_word(r, word, sizeof word));
        if (word[0] != '$')
            return lt_set_error(LT_ERR_FORMAT, "%s:%d: expected a section, "
                                "found '%s'", r->path, r->line, word);
        if (!strcmp(word, "$Entities")) {
            if (cv->ent || have_nodes)
                return rd_bad(r, "a second $Entities section, or one after "
                              "$Nodes");
            TRY(rd_entities(r, cv));
        } else if (!strcmp(word, "$Nodes")) {
            if (have_nodes)
                return rd_bad(r, "a second $Nodes section");
            TRY(rd_nodes(r, nd));
            have_nodes = true;
        } else if (!strcmp(word, "$Elements")) {
            if (!have_nodes)
                return rd_bad(r, "$Elements before $Nodes");
            if (have_elems)
                return rd_bad(r, "a second $Elements section");
            TRY(rd_elements(r, nd, cv, el));
            have_elems = true;
        } else {
            TRY(rd_skip(r, word));
        }
    }
    if (!have_nodes || !have_elems)
        return lt_set_error(LT_ERR_FORMAT, "%s: truncated: no %s section",
                            r->path, have_nodes ? "$Elements" : "$Nodes");
    return msh_build(r, nd, el, m);
}

lt_status lt_mesh_read_msh(const char *path, lt_mesh *m)
{
    memset(m, 0, sizeof *m);
    char *text;
    size_t len;
    TRY(lt_read_file(path, &text, &len));
    msh_reader r = {path, text, 1, len};
    msh_curves cv = {0};
    msh_nodes nd = {0};
    msh_elems el = {0};
    lt_status s = msh_parse(&r, m, &cv, &nd, &el);
    free(cv.ent);
    free(cv.phys);
    free(nd.tag2idx);
    free(nd.xy);
    free(el.tri);
    free(el.edge);
    free(el.etag);
    free(text);
    return s;
}

/* ---- writer ------------------------------------------------------------- */

/* Boundary edges are written in their order, one curve entity per run of
 * equal tags (so a read gives back the same edges in the same order). */
static int msh_runs(const lt_mesh *m)
{
    int n = 0;
    for (int e = 0; e < m->nb; e++)
        n += e == 0 || m->btag[e] != m->btag[e - 1];
    return n;
}

static void msh_write_body(FILE *f, const lt_mesh *m)
{
    double lo[2] = {m->xy[0], m->xy[1]}, hi[2] = {m->xy[0], m->xy[1]};
    for (int i = 0; i < m->nv; i++)
        for (int d = 0; d < 2; d++) {
            lo[d] = fmin(lo[d], m->xy[2 * i + d]);
            hi[d] = fmax(hi[d], m->xy[2 * i + d]);
        }
    int nr = msh_runs(m);
    fprintf(f, "$MeshFormat\n4.1 0 8\n$EndMeshFormat\n$Entities\n0 %d 1 0\n", nr);
    for (int e = 0, c = 0; e < m->nb; e++)
        if (e == 0 || m->btag[e] != m->btag[e - 1])
            fprintf(f, "%d %.17g %.17g 0 %.17g %.17g 0 1 %d 0\n", ++c, lo[0],
                    lo[1], hi[0], hi[1], m->btag[e]);
    fprintf(f, "1 %.17g %.17g 0 %.17g %.17g 0 1 %d %d", lo[0], lo[1], hi[0],
            hi[1], LT_MSH_SURFACE_TAG, nr);
    for (int i = 0; i < nr; i++)
        fprintf(f, " %d", i + 1);
    fprintf(f, "\n$EndEntities\n$Nodes\n1 %d 1 %d\n2 1 0 %d\n", m->nv, m->nv,
            m->nv);
    for (int i = 0; i < m->nv; i++)
        fprintf(f, "%d\n", i + 1);
    for (int i = 0; i < m->nv; i++)
        fprintf(f, "%.17g %.17g 0\n", m->xy[2 * i], m->xy[2 * i + 1]);
    fprintf(f, "$EndNodes\n$Elements\n%d %d 1 %d\n", nr + 1, m->nb + m->nt,
            m->nb + m->nt);
    int id = 1;
    for (int e = 0, c = 0; e < m->nb;) {
        int len = 1;
        while (e + len < m->nb && m->btag[e + len] == m->btag[e])
            len++;
        fprintf(f, "1 %d 1 %d\n", ++c, len);
        for (int k = e; k < e + len; k++)
            fprintf(f, "%d %d %d\n", id++, m->bedge[2 * k] + 1,
                    m->bedge[2 * k + 1] + 1);
        e += len;
    }
    fprintf(f, "2 1 2 %d\n", m->nt);
    for (int k = 0; k < m->nt; k++)
        fprintf(f, "%d %d %d %d\n", id++, m->tri[3 * k] + 1,
                m->tri[3 * k + 1] + 1, m->tri[3 * k + 2] + 1);
    fprintf(f, "$EndElements\n");
}

lt_status lt_mesh_write_msh(const char *path, const lt_mesh *m)
{
    lt_atomic_file *a;
    lt_status s = lt_atomic_open(path, &a);
    if (s == LT_OK) {
        msh_write_body(lt_atomic_stream(a), m);
        s = lt_atomic_commit(a);
    }
    return s;
}
