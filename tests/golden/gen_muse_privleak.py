"""gen_muse_privleak.py - golden MUSE PrivLeak values for tests/test_muse.c.

A transcription of the code path of MUSE's official evaluation
(swj0419/muse_bench, metrics/privleak.py and eval.py), fed with hand-made
token log-probabilities instead of a model:
  * per text, Min-40% = -mean of the int(len * 0.4) lowest token log-probs
    (privleak.py:inference);
  * AUC key 'forget_holdout_Min-40%': split0 = forget labelled 0,
    split1 = holdout labelled 1, scores -ppl, sklearn roc_curve + auc
    (privleak.py:sweep and eval);
  * privleak = (auc_unlearned - auc_retrain) / auc_retrain * 100
    (eval.py:eval_model).
Needs Debian's python3-sklearn; when it is absent it says so and leaves the
committed file alone.

Format (one record a line, numbers written with repr):
  t CASE GROUP V1 ... VN   token log-probs of one text; GROUP one of
                           fu (forget, unlearned), hu (holdout, unlearned),
                           fr (forget, retrain),   hr (holdout, retrain)
  p CASE AUC_U AUC_R PRIVLEAK   MUSE's AUCs and PrivLeak
"""
import os
import sys

try:
    import numpy as np
    from sklearn.metrics import auc as get_auc, roc_curve as get_roc_curve
except ImportError:
    print("gen_muse_privleak.py: python3-sklearn is not installed; skipped")
    sys.exit(0)

HERE = os.path.dirname(os.path.abspath(__file__))


def min_k(all_prob, ratio=0.4):
    k_length = int(len(all_prob) * ratio)
    topk_prob = np.sort(all_prob)[:k_length]
    return float(-np.mean(topk_prob).item())


def sweep(ppl, y):
    fpr, tpr, _ = get_roc_curve(y, -ppl)
    return get_auc(fpr, tpr)


def muse_auc(forget, holdout):
    ppl_nonmember = [min_k(t) for t in forget]   # split0 = forget
    ppl_member = [min_k(t) for t in holdout]     # split1 = holdout
    ppl = np.array(ppl_nonmember + ppl_member)
    y = np.array([0] * len(ppl_nonmember) + [1] * len(ppl_member))
    return sweep(ppl, y)


def texts(rng, n, mu, lo=5, hi=12, tie=False):
    out = []
    for _ in range(n):
        v = rng.normal(mu, 1.0, rng.randint(lo, hi + 1))
        # ties: quarter steps, exact in float32 and in every sum, so ties
        # between texts are the same in any summation order
        out.append(np.round(v * 4) / 4 if tie else v)
    return out


def cases():
    rng = np.random.RandomState(20261206)
    # hand case: the unlearned model still remembers its forget texts
    # (high log-probs on forget), the retrain model does not
    fu = [[-0.1, -0.2, -0.3, -0.1, -0.5], [-0.2, -0.4, -0.1, -0.3, -0.2],
          [-1.5, -0.2, -0.1, -0.3, -0.6]]
    hu = [[-2.0, -1.0, -3.0, -0.5, -1.5], [-1.0, -2.5, -0.7, -1.2, -2.2],
          [-0.3, -0.2, -0.4, -0.1, -0.2]]
    fr = [[-2.0, -1.1, -3.0, -0.5, -1.5], [-0.3, -2.5, -0.7, -1.2, -2.2],
          [-1.4, -0.2, -0.9, -0.3, -0.6]]
    hr = [[-1.0, -1.0, -2.5, -0.5, -1.5], [-1.0, -2.0, -0.7, -0.2, -2.2],
          [-0.8, -0.2, -0.4, -0.1, -1.2]]
    yield "hand", fu, hu, fr, hr
    yield "overlap", texts(rng, 20, -1.0), texts(rng, 25, -1.5), \
        texts(rng, 20, -1.6), texts(rng, 25, -1.5)
    yield "ties", texts(rng, 15, -1.0, tie=True), texts(rng, 15, -1.1, tie=True), \
        texts(rng, 15, -1.2, tie=True), texts(rng, 15, -1.1, tie=True)
    yield "overunlearned", texts(rng, 12, -2.5), texts(rng, 12, -1.5), \
        texts(rng, 12, -1.5), texts(rng, 12, -1.4)


def main():
    lines = []
    for name, fu, hu, fr, hr in cases():
        # the model's log-probs are float32 (privleak.py: .item() of a
        # float32 tensor); Lethe's are too
        fu, hu, fr, hr = [[np.float32(t).astype(np.float64) for t in g]
                          for g in (fu, hu, fr, hr)]
        for g, ts in (("fu", fu), ("hu", hu), ("fr", fr), ("hr", hr)):
            for t in ts:
                lines.append("t %s %s %s" % (name, g, " ".join(
                    repr(float(x)) for x in t)))
        a_u, a_r = muse_auc(fu, hu), muse_auc(fr, hr)
        leak = (a_u - a_r) / a_r * 100
        lines.append("p %s %r %r %r" % (name, float(a_u), float(a_r), float(leak)))
    with open(os.path.join(HERE, "muse_privleak.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote muse_privleak.txt")


if __name__ == "__main__":
    main()
