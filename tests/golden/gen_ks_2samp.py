"""gen_ks_2samp.py - golden two-sample Kolmogorov-Smirnov results for
tests/test_stats.c.

Writes ks_2samp.txt next to this script: for each case the samples and
scipy.stats.ks_2samp(a, b) (defaults: two-sided, method 'auto', exact for
these sizes), plus scipy.stats.kstwobign.sf at a few points and
scipy.stats.hmean of a few vectors. Needs Debian's python3-scipy; when it is
absent it says so and leaves the committed file alone.

Format (one record a line, numbers written with repr):
  ks NAME N M STAT PVALUE
  a V1 ... VN
  b W1 ... WM
  kolm X SF
  hmean K V1 ... VK RESULT
"""
import os
import sys

try:
    import numpy as np
    from scipy import stats
except ImportError:
    print("gen_ks_2samp.py: python3-scipy is not installed; skipped")
    sys.exit(0)

HERE = os.path.dirname(os.path.abspath(__file__))


def cases():
    rng = np.random.RandomState(20240521)
    yield "disjoint3", [1.0, 2.0, 3.0], [4.0, 5.0, 6.0]
    yield "disjoint2x3", [1.0, 2.0], [3.0, 4.0, 5.0]
    yield "interleaved", [1.0, 3.0, 5.0, 7.0], [2.0, 4.0, 6.0, 8.0, 10.0]
    yield "equal80_shift", rng.normal(0, 1, 80), rng.normal(0.5, 1, 80)
    yield "equal80_same", rng.normal(0, 1, 80), rng.normal(0, 1, 80)
    yield "n80_m100", rng.lognormal(0, 1, 80), rng.lognormal(0.3, 1, 100)
    yield "n37_m50", rng.uniform(0, 1, 37), rng.uniform(0.1, 1.1, 50)
    yield "n400_m300", rng.normal(0, 1, 400), rng.normal(0.1, 1.2, 300)
    yield "ties30_45", np.round(rng.normal(0, 2, 30)), np.round(rng.normal(1, 2, 45))
    yield "ties_equal40", np.round(rng.normal(0, 1, 40)), np.round(rng.normal(0, 1, 40))
    yield "n1_m7", [0.5], rng.uniform(0, 1, 7)
    yield "n200_m13", rng.exponential(1, 200), rng.exponential(2, 13)
    yield "far_apart_60", rng.normal(0, 1, 60), rng.normal(10, 1, 60)
    yield "n60_m90_far", rng.normal(0, 1, 60), rng.normal(3, 1, 90)


def fmt(v):
    return repr(float(v))


def main():
    lines = []
    for name, a, b in cases():
        a = np.asarray(a, dtype=np.float64)
        b = np.asarray(b, dtype=np.float64)
        r = stats.ks_2samp(a, b)
        lines.append("ks %s %d %d %s %s" % (name, len(a), len(b),
                                            fmt(r.statistic), fmt(r.pvalue)))
        lines.append("a " + " ".join(fmt(v) for v in a))
        lines.append("b " + " ".join(fmt(v) for v in b))
    for x in [0.2, 0.5, 0.8, 1.0, 1.2239, 1.3581, 1.6276, 2.0, 3.0]:
        lines.append("kolm %s %s" % (fmt(x), fmt(stats.kstwobign.sf(x))))
    for v in [[1.0, 2.0, 4.0], [0.5, 0.25, 0.9, 0.3, 0.7, 0.62, 0.41, 0.8,
                                0.33], [0.3, 0.0, 0.9]]:
        lines.append("hmean %d %s %s" % (len(v), " ".join(fmt(x) for x in v),
                                         fmt(stats.hmean(v))))
    with open(os.path.join(HERE, "ks_2samp.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
