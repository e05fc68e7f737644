/*
 * fuzz_msh.c - libFuzzer harness of the gmsh .msh 4.1 reader
 * (lt_mesh_read_msh; it reads a path, so the input is written to a scratch
 * file).
 *
 * Oracles: a failed read is LT_ERR_FORMAT (or LT_ERR_NOMEM, LT_ERR_IO) and
 * leaves the mesh zeroed; a successful one is finalised (no tangled cell,
 * every boundary edge tagged), and writing it back (lt_mesh_write_msh) and
 * reading that gives the same sizes, coordinates, triangles and tags.
 */
#include "fuzz.h"

#include "lethe/mesh.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = fz_write("in.msh", data, size);
    lt_mesh m;
    lt_status s = lt_mesh_read_msh(p, &m);
    if (s != LT_OK) {
        FZ_CHECK(s == LT_ERR_FORMAT || s == LT_ERR_NOMEM || s == LT_ERR_IO,
                 "status %s", lt_status_name(s));
        FZ_CHECK(!m.xy && !m.tri && !m.nv && !m.nt, "failed read left a mesh");
        return 0;
    }
    FZ_CHECK(lt_mesh_count_tangled(&m) == 0, "tangled cells after a read");
    const char *q = fz_path("out.msh");
    FZ_CHECK(lt_mesh_write_msh(q, &m) == LT_OK, "rewrite");
    lt_mesh b;
    FZ_CHECK(lt_mesh_read_msh(q, &b) == LT_OK, "reread: %s", lt_last_error());
    FZ_CHECK(b.nv == m.nv && b.nt == m.nt && b.nb == m.nb, "sizes changed");
    FZ_CHECK(!memcmp(b.xy, m.xy, sizeof(double) * 2 * (size_t)m.nv) &&
             !memcmp(b.tri, m.tri, sizeof(int) * 3 * (size_t)m.nt) &&
             !memcmp(b.btag, m.btag, sizeof(int) * (size_t)m.nb),
             "mesh changed on the round trip");
    lt_mesh_free(&b);
    lt_mesh_free(&m);
    return 0;
}
