"""gen_fd.py - golden Frechet distances for tests/test_fd.c, computed the
pytorch-fid way (pytorch_fid.fid_score.calculate_frechet_distance:
np.cov statistics in float64, scipy.linalg.sqrtm of S1 S2, its real part,
the eps * I offset when the product is singular).

Writes fd.txt next to this script: for each case two small random feature
sets (float32 values written shortest-exact, so strtof reads them back
bit for bit) and the FD with its terms.
Cases include d > n (rank-deficient covariances). Needs Debian's
python3-scipy; when it is absent it says so and leaves the committed file
alone.

Format (one record a line, numbers written with repr):
  case NAME D NA NB FD MEAN_TERM TRACE_A TRACE_B
  a V1 ... V(NA*D)     (row-major)
  b W1 ... W(NB*D)
"""
import os
import sys

try:
    import numpy as np
    from scipy import linalg
except ImportError:
    print("gen_fd.py: python3-scipy is not installed; skipped")
    sys.exit(0)

HERE = os.path.dirname(os.path.abspath(__file__))


def pytorch_fid(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """pytorch-fid 0.3.0's calculate_frechet_distance, verbatim logic."""
    diff = mu1 - mu2
    covmean, _ = linalg.sqrtm(sigma1.dot(sigma2), disp=False)
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError("Imaginary component %s"
                             % np.max(np.abs(covmean.imag)))
        covmean = covmean.real
    return (diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2)
            - 2 * np.trace(covmean))


def cases():
    rng = np.random.RandomState(20240607)
    yield "gauss_n200_d8", rng.normal(0, 1, (200, 8)), \
        rng.normal(0.3, 1.5, (150, 8))
    mix = rng.normal(0, 1, (16, 16))
    yield "correlated_n120_d16", rng.normal(0, 1, (120, 16)) @ mix, \
        rng.normal(0.1, 1, (90, 16)) @ mix.T + 0.5
    yield "relu_like_n150_d12", np.maximum(rng.normal(0, 1, (150, 12)), 0), \
        np.maximum(rng.normal(0.2, 1.2, (120, 12)), 0)
    yield "close_n250_d6", rng.normal(0, 1, (250, 6)), \
        rng.normal(0.01, 1.02, (250, 6))
    yield "scale_n40_d3", rng.uniform(-3, 3, (40, 3)), \
        rng.uniform(-1, 5, (60, 3)) * 10
    # rank-deficient: d > n, both covariances singular
    yield "rankdef_n12_d20", rng.normal(0, 1, (12, 20)), \
        rng.normal(0.5, 1, (15, 20))
    yield "rankdef_n5_d8", rng.normal(0, 2, (5, 8)), \
        rng.normal(0, 1, (30, 8))


def fmt(v):
    return repr(float(v))


def fmt32(v):
    """Shortest text that reads back (strtof) as the same float32."""
    return str(np.float32(v))


def main():
    lines = []
    for name, a, b in cases():
        a = np.asarray(a, dtype=np.float32).astype(np.float64)
        b = np.asarray(b, dtype=np.float32).astype(np.float64)
        mu1, mu2 = a.mean(axis=0), b.mean(axis=0)
        s1 = np.cov(a, rowvar=False)
        s2 = np.cov(b, rowvar=False)
        fd = pytorch_fid(mu1, s1, mu2, s2)
        diff = mu1 - mu2
        lines.append("case %s %d %d %d %s %s %s %s" % (
            name, a.shape[1], a.shape[0], b.shape[0], fmt(fd),
            fmt(diff.dot(diff)), fmt(np.trace(s1)), fmt(np.trace(s2))))
        lines.append("a " + " ".join(fmt32(v) for v in a.ravel()))
        lines.append("b " + " ".join(fmt32(v) for v in b.ravel()))
    with open(os.path.join(HERE, "fd.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote fd.txt (%d cases)" % (len(lines) // 3))


if __name__ == "__main__":
    main()
