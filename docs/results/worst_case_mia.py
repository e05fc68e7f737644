"""worst_case_mia.py - why MIA-efficacy reads near 100% on worst-case sets.

Recomputes the official SVC_MIA (Unlearn-Saliency evaluation/SVC_MIA.py:
members = the first len(test) retain items, non-members = the test set,
feature = softmax probability of the true label, SVC(C=3, gamma="auto",
rbf), efficacy = share of forget items predicted non-member) from the
logits `lethe predict` writes, and prints where the fitted SVC says
"non-member", how the members', non-members' and forget items' confidences
spread, and the efficacy of a random set of the same size.

Usage (DIR holds wc.idx from `lethe select` and orig-/retrain-train/test.npy
from `lethe predict`; see docs/results/README.md for the commands):
    /usr/bin/python3 docs/results/worst_case_mia.py DIR
Needs python3-sklearn and Fashion-MNIST in /usr/share/datasets.
"""
import gzip
import os
import sys

import numpy as np
from sklearn.svm import SVC

FMNIST = "/usr/share/datasets/fashion-mnist"


def labels(name):
    with gzip.open(os.path.join(FMNIST, name)) as f:
        return np.frombuffer(f.read()[8:], dtype=np.uint8).astype(int)


def confidence(logits, y):
    z = logits.astype(np.float64)
    z -= z.max(1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    return p[np.arange(len(y)), y]


def main(d):
    ytr = labels("train-labels-idx1-ubyte.gz")
    yte = labels("t10k-labels-idx1-ubyte.gz")
    fi = np.array([int(l) for l in open(os.path.join(d, "wc.idx"))
                   if l.strip() and not l.startswith("#")])
    keep = np.ones(len(ytr), bool)
    keep[fi] = False
    ri = np.where(keep)[0]
    rand = np.random.RandomState(0).choice(len(ytr), len(fi), replace=False)
    print("worst-case set: %d items, classes %s" %
          (len(fi), np.bincount(ytr[fi], minlength=10)))
    grid = np.linspace(0, 1, 10001).reshape(-1, 1)
    for m in ("orig", "retrain"):
        ctr = confidence(np.load(os.path.join(d, m + "-train.npy")), ytr)
        cte = confidence(np.load(os.path.join(d, m + "-test.npy")), yte)
        mem = ctr[ri][:len(cte)]
        x = np.concatenate([mem, cte]).reshape(-1, 1)
        y = np.concatenate([np.ones(len(mem)), np.zeros(len(cte))])
        clf = SVC(C=3, gamma="auto", kernel="rbf").fit(x, y)

        def eff(v):
            return (1 - clf.predict(v.reshape(-1, 1)).mean()) * 100
        p = clf.predict(grid)
        flips = grid[1:][np.diff(p) != 0].ravel()
        print("%s: MIA-efficacy worst-case %.2f, random %.2f, members %.2f, "
              "non-members %.2f; SVC says %s below %s" %
              (m, eff(ctr[fi]), eff(ctr[rand]), eff(mem), eff(cte),
               "member" if p[0] == 1 else "non-member", np.round(flips, 4)))
        for lo, hi in ((0, .5), (.5, .9), (.9, .99), (.99, .999), (.999, 1.1)):
            def n(v):
                return int(((v >= lo) & (v < hi)).sum())
            print("  confidence [%g, %g): members %5d  non-members %5d  "
                  "worst-case %5d" % (lo, min(hi, 1), n(mem), n(cte),
                                      n(ctr[fi])))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
