"""gen_svc_mia.py - golden MIA-efficacy values for tests/test_metrics.c.

A transcription of the code path of OPTML-Group/Unlearn-Saliency
Classification/evaluation/SVC_MIA.py (SVC_MIA with target_train None, as
main_forget.py calls it for SVC_MIA_forget_efficacy) on synthetic softmax
confidences of the true label that OVERLAP between members and
non-members (the separable case proves little): shadow_train = the first
len(test) retain confidences (member, 1), shadow_test = the test
confidences (non-member, 0), sklearn SVC(C=3, gamma="auto", kernel="rbf")
fitted on the concatenation, efficacy = 1 - mean(predict(forget)).
Needs Debian's python3-sklearn; when absent it says so and leaves the
committed file alone.

Format: per case
  c NAME NR NT NF EFFICACY(%)
  r V...   retain confidences
  t V...   test confidences
  f V...   forget confidences
"""
import os
import sys

try:
    import numpy as np
    from sklearn.svm import SVC
except ImportError:
    print("gen_svc_mia.py: python3-sklearn is not installed; skipped")
    sys.exit(0)

HERE = os.path.dirname(os.path.abspath(__file__))


def svc_efficacy(retain, test, forget):
    shadow_train = retain[:len(test)]
    x = np.concatenate([shadow_train, test]).reshape(-1, 1)
    y = np.concatenate([np.ones(len(shadow_train)), np.zeros(len(test))])
    clf = SVC(C=3, gamma="auto", kernel="rbf")
    clf.fit(x, y)
    return (1 - clf.predict(forget.reshape(-1, 1)).mean()) * 100


def f32(v):
    return np.asarray(v, dtype=np.float32).astype(np.float64)


def cases():
    rng = np.random.RandomState(20261206)
    # members a little more confident than non-members, heavily overlapping
    yield "overlap", f32(rng.beta(5, 2, 300)), f32(rng.beta(4, 2.5, 200)), \
        f32(rng.beta(4, 3, 120))
    yield "mostly_same", f32(rng.beta(3, 2, 250)), f32(rng.beta(3, 2.2, 250)), \
        f32(rng.beta(3, 2, 90))
    yield "skewed", f32(1 - rng.exponential(0.05, 400).clip(0, 1)), \
        f32(1 - rng.exponential(0.15, 150).clip(0, 1)), \
        f32(1 - rng.exponential(0.1, 60).clip(0, 1))
    yield "forget_like_test", f32(rng.uniform(0.3, 1, 200)), \
        f32(rng.uniform(0, 0.8, 180)), f32(rng.uniform(0, 0.8, 100))


def main():
    lines = []
    for name, r, t, f in cases():
        e = svc_efficacy(r, t, f)
        lines.append("c %s %d %d %d %r" % (name, len(r), len(t), len(f), float(e)))
        for tag, v in (("r", r), ("t", t), ("f", f)):
            lines.append(tag + " " + " ".join(repr(float(x)) for x in v))
    with open(os.path.join(HERE, "svc_mia.txt"), "w") as fh:
        fh.write("\n".join(lines) + "\n")
    print("wrote svc_mia.txt")


if __name__ == "__main__":
    main()
