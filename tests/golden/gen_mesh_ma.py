#!/usr/bin/env python3
"""gen_mesh_ma.py - the SciPy reference of Lethe's Monge-Ampere mover
(tests/test_mesh_ma.c checks against its output, mesh_ma.txt).

An independent NumPy/SciPy implementation of the relaxation that
mesh-adaptation/movement's MongeAmpereMover_Relaxation runs (pseudo-timestep
0.1, rtol 1e-3, dtol 2, maxiter 500, grad phi projected with its normal
component zero on axis-aligned sides), on the committed gmsh square
tests/data/mesh/square_lc0.2.msh, under an analytic monitor evaluated at the
moved vertices; and on the same square turned by 0.5236 rad, where every
side is slanted and its vertices slide through movement's two EquationBCs
(written out literally here as a dense system). It differs from the C code
in how it gets there: boundary conditions by solving on the free vertices
only (or the dense row-replaced system), the potential's constant by a
Lagrange multiplier, sparse LU instead of Cholesky, and the 7-point
degree-5 rule for the integrals (exact for these polynomial integrands, as
the C code's 6-point rule is).

Usage: python3 tests/golden/gen_mesh_ma.py
   (writes tests/golden/mesh_ma.txt and mesh_ma_turned.txt)
"""
import os

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

HERE = os.path.dirname(os.path.abspath(__file__))
MESH = os.path.join(HERE, "..", "data", "mesh", "square_lc0.2.msh")
OUT = os.path.join(HERE, "mesh_ma.txt")
OUT_TURNED = os.path.join(HERE, "mesh_ma_turned.txt")
TURN = 0.5236

# degree-5 rule: barycentric points and weights (sum 1)
A1, B1 = 0.059715871789770, 0.470142064105115
A2, B2 = 0.797426985353087, 0.101286507323456
QP = np.array([[1 / 3, 1 / 3, 1 / 3], [A1, B1, B1], [B1, A1, B1], [B1, B1, A1],
               [A2, B2, B2], [B2, A2, B2], [B2, B2, A2]])
QW = np.array([0.225] + [0.132394152788506] * 3 + [0.125939180544827] * 3)


def monitor(xy):
    """The analytic monitor of the test (also in test_mesh_ma.c)."""
    x, y = xy[:, 0], xy[:, 1]
    return 1 + 5 * np.exp(-((x - 0.35) ** 2 / 0.02 + (y - 0.6) ** 2 / 0.05))


def read_msh(path):
    """Nodes, triangles and tagged edges of a gmsh 4.1 ASCII file."""
    tok = open(path).read().split("\n")
    i = 0
    ent_phys, nodes, tris, edges = {}, {}, [], []
    while i < len(tok):
        line = tok[i].strip()
        if line == "$Entities":
            npnt, ncur, nsur, _ = map(int, tok[i + 1].split())
            for k in range(ncur):
                f = tok[i + 2 + npnt + k].split()
                nphys = int(f[7])
                ent_phys[int(f[0])] = int(f[8]) if nphys else int(f[0])
            i += 2 + npnt + ncur + nsur
            continue
        if line == "$Nodes":
            nblocks = int(tok[i + 1].split()[0])
            i += 2
            for _ in range(nblocks):
                n = int(tok[i].split()[3])
                tags = [int(tok[i + 1 + k]) for k in range(n)]
                for k in range(n):
                    c = tok[i + 1 + n + k].split()
                    nodes[tags[k]] = (float(c[0]), float(c[1]))
                i += 1 + 2 * n
            continue
        if line == "$Elements":
            nblocks = int(tok[i + 1].split()[0])
            i += 2
            for _ in range(nblocks):
                _, ent, etype, n = map(int, tok[i].split())
                for k in range(n):
                    v = list(map(int, tok[i + 1 + k].split()))[1:]
                    if etype == 2:
                        tris.append(v)
                    elif etype == 1:
                        edges.append((v[0], v[1], ent_phys[ent]))
                i += 1 + n
            continue
        i += 1
    order = sorted(nodes)
    index = {t: j for j, t in enumerate(order)}
    xy = np.array([nodes[t] for t in order])
    tri = np.array([[index[t] for t in v] for v in tris])
    bnd = [(index[a], index[b], tag) for a, b, tag in edges]
    return xy, tri, bnd


def geometry(xy, tri):
    p = xy[tri]
    det = ((p[:, 1, 0] - p[:, 0, 0]) * (p[:, 2, 1] - p[:, 0, 1]) -
           (p[:, 2, 0] - p[:, 0, 0]) * (p[:, 1, 1] - p[:, 0, 1]))
    grads = np.zeros((len(tri), 3, 2))
    for j in range(3):
        a, b = (j + 1) % 3, (j + 2) % 3
        grads[:, j, 0] = (p[:, a, 1] - p[:, b, 1]) / det
        grads[:, j, 1] = (p[:, b, 0] - p[:, a, 0]) / det
    return det / 2, grads


def boundary(xy, tri, bnd):
    """Each tagged edge with its length, outward normal and cell."""
    out = []
    for a, b, tag in bnd:
        cell = [k for k in range(len(tri)) if a in tri[k] and b in tri[k]]
        assert len(cell) == 1
        k = cell[0]
        third = [v for v in tri[k] if v not in (a, b)][0]
        d = xy[b] - xy[a]
        n = np.array([d[1], -d[0]]) / np.hypot(*d)
        if np.dot(n, xy[third] - xy[a]) > 0:
            n = -n
        out.append((a, b, tag, np.hypot(*d), n, k))
    return out


def assemble(xy, tri, area, grads):
    n = len(xy)
    rows, cols, mv, kv = [], [], [], []
    for k in range(len(tri)):
        for i in range(3):
            for j in range(3):
                rows.append(tri[k, i])
                cols.append(tri[k, j])
                mv.append(area[k] / 12 * (2 if i == j else 1))
                kv.append(area[k] * grads[k, i] @ grads[k, j])
    M = sp.csc_matrix((mv, (rows, cols)), shape=(n, n))
    K = sp.csc_matrix((kv, (rows, cols)), shape=(n, n))
    return M, K


def cell_grad(u, tri, grads):
    return np.einsum("kj,kjc->kc", u[tri], grads)


def integrate_p1_test(tri, area, values_at_q):
    """b_i = int psi_i g, g given at the quadrature points of each cell."""
    n = tri.max() + 1
    b = np.zeros(n)
    for j in range(3):
        np.add.at(b, tri[:, j], area * (values_at_q * QP[:, j] * QW).sum(1))
    return b


def slanted_projector(xi, tri, area, grads, edges, slanted, corner):
    """movement's projector with EquationBCs, written out literally as a
    dense 2n x 2n system (unknowns [ux; uy]): the domain rows of the vector
    mass matrix; on the vertices of slanted sides the rows of
    (v.n)(u.n) ds plus tang(v).tang(u) ds; corners pinned."""
    n = len(xi)
    A = np.zeros((2 * n, 2 * n))
    for k in range(len(tri)):
        for i in range(3):
            for j in range(3):
                v = area[k] / 12 * (2 if i == j else 1)
                for c in range(2):
                    A[c * n + tri[k, i], c * n + tri[k, j]] += v
    on = np.zeros(n, bool)
    for a, b, tag, ln, nrm, k in edges:
        if tag in slanted:
            on[a] = on[b] = True
    rows = np.concatenate([np.nonzero(on)[0], n + np.nonzero(on)[0]])
    A[rows, :] = 0
    for a, b, tag, ln, nrm, k in edges:
        for p in (a, b):
            if not on[p]:
                continue
            for q in (a, b):
                w = ln / 6 * (2 if p == q else 1)
                for c in range(2):
                    for d in range(2):
                        normal = nrm[c] * nrm[d]
                        tang = (c == d) - nrm[c] * nrm[d]
                        A[c * n + p, d * n + q] += w * (normal + tang)
    for p in np.nonzero(corner)[0]:
        for c in range(2):
            A[c * n + p, :] = 0
            A[c * n + p, c * n + p] = 1

    def rhs(phi):
        g = cell_grad(phi, tri, grads)
        b = np.zeros(2 * n)
        for c in range(2):
            for j in range(3):
                np.add.at(b[c * n:(c + 1) * n], tri[:, j], area / 3 * g[:, c])
        b[rows] = 0
        for a, bb, tag, ln, nrm, k in edges:
            tg = g[k] - (g[k] @ nrm) * nrm
            for p in (a, bb):
                if on[p]:
                    for c in range(2):
                        b[c * n + p] += ln / 2 * tg[c]
        for p in np.nonzero(corner)[0]:
            b[p] = b[n + p] = 0
        return b

    return lambda phi: np.linalg.solve(A, rhs(phi)).reshape(2, n).T


def run(xi, tri, bnd, monitor):
    """The relaxation on mesh (xi, tri, bnd): residual history, positions."""
    area, grads = geometry(xi, tri)
    if (area < 0).all():
        tri = tri[:, [0, 2, 1]]
        area, grads = geometry(xi, tri)
    assert (area > 0).all()
    edges = boundary(xi, tri, bnd)
    n = len(xi)
    M, K = assemble(xi, tri, area, grads)
    total = area.sum()
    # pinned components of grad phi: the normal one on axis-aligned sides
    fixed = [np.zeros(n, bool), np.zeros(n, bool)]
    slanted, tags_of = set(), [set() for _ in range(n)]
    for e in edges:
        tags_of[e[0]].add(e[2])
        tags_of[e[1]].add(e[2])
    for tag in {e[2] for e in edges}:
        s = sum(np.abs(e[4]) * e[3] for e in edges if e[2] == tag)
        zero = np.isclose(s, 0, rtol=0, atol=1e-8)
        if zero.sum() != 1:
            slanted.add(tag)
            continue
        c = int(np.nonzero(~zero)[0][0])
        for e in edges:
            if e[2] == tag:
                fixed[c][e[0]] = fixed[c][e[1]] = True
    corner = np.array([len(t) > 1 and bool(t & slanted) for t in tags_of])
    general = slanted_projector(xi, tri, area, grads, edges, slanted,
                                corner) if slanted else None
    free = [np.nonzero(~f)[0] for f in fixed]
    mass_free = [spla.splu(M[fr][:, fr].tocsc()) for fr in free]
    mass = spla.splu(M)
    ones = sp.csc_matrix(np.ones((n, 1)))
    saddle = spla.splu(sp.bmat([[K, ones], [ones.T, None]]).tocsc())

    phi_old = np.zeros(n)
    sigma_old = np.zeros((n, 4))
    history = []
    x = xi.copy()
    for it in range(500):
        g = cell_grad(phi_old, tri, grads)
        gp = np.zeros((n, 2))
        for c in range(2):
            rhs = np.zeros(n)
            for j in range(3):
                np.add.at(rhs, tri[:, j], area / 3 * g[:, c])
            gp[free[c], c] = mass_free[c].solve(rhs[free[c]])
        if general is not None:
            gp = general(phi_old)
        x = xi + gp
        m = monitor(x)
        mq = m[tri] @ QP.T                       # [cells, q]
        sq = np.einsum("kjc,qj->kqc", sigma_old[tri], QP)
        dens = mq * ((1 + sq[..., 0]) * (1 + sq[..., 3]) - sq[..., 1] * sq[..., 2])
        theta = (area * (dens * QW).sum(1)).sum() / total
        r = integrate_p1_test(tri, area, dens - theta)
        t = integrate_p1_test(tri, area, np.full(dens.shape, theta))
        res = np.linalg.norm(r) / np.linalg.norm(t)
        history.append(res)
        if it == 0:
            first = res
        if res < 1e-3:
            break
        assert res <= 2 * first, "diverged"
        rhs = K @ phi_old + 0.1 * r
        phi = saddle.solve(np.concatenate([rhs, [0.0]]))[:n]
        gphi = cell_grad(phi, tri, grads)
        srhs = np.zeros((n, 4))
        for j in range(3):
            for a in range(2):
                for b in range(2):
                    np.add.at(srhs[:, 2 * a + b], tri[:, j],
                              -area * grads[:, j, b] * gphi[:, a])
        for a_, b_, tag, ln, nrm, k in edges:
            tg = gphi[k] - (gphi[k] @ nrm) * nrm
            for v in (a_, b_):
                srhs[v] += 0.5 * ln * np.outer(tg, nrm).ravel()
        sigma = np.stack([mass.solve(srhs[:, c]) for c in range(4)], 1)
        phi_old, sigma_old = phi, sigma
    return history, x


def write(path, what, history, x):
    with open(path, "w") as f:
        f.write(f"# gen_mesh_ma.py: SciPy Monge-Ampere relaxation on {what}\n")
        f.write(f"{len(history)} {len(x)}\n")
        f.write(" ".join(f"{v:.17g}" for v in history) + "\n")
        for p in x:
            f.write(f"{p[0]:.17g} {p[1]:.17g}\n")
    print(f"{len(history)} iterations, residual {history[0]:.3e} -> "
          f"{history[-1]:.3e}; wrote {path}")


def rot(p, a):
    c, s = np.cos(a), np.sin(a)
    return np.stack([c * p[:, 0] - s * p[:, 1], s * p[:, 0] + c * p[:, 1]], 1)


def main():
    xi, tri, bnd = read_msh(MESH)
    write(OUT, "square_lc0.2.msh", *run(xi, tri, bnd, monitor))
    # the square turned by TURN: every side slides through the EquationBCs
    write(OUT_TURNED, f"square_lc0.2.msh turned by {TURN} rad",
          *run(rot(xi, TURN), tri, bnd, lambda p: monitor(rot(p, -TURN))))


if __name__ == "__main__":
    main()
