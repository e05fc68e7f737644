"""dm_guidance_sweep.py - the cond:s v2 acceptance checks against the
guidance weight w (salun convention), from the reports in this folder:
dm-cond-s-v2-w{0,0.5,1,1.5}.json and, for w = 2, dm-cond-s-v2-accept.json
(500 samples each, 50 per class, sampling seed 1234; printed as Markdown)."""
import json
import os

H = os.path.dirname(os.path.abspath(__file__))
RUNS = [("0", "dm-cond-s-v2-w0.json"), ("0.5", "dm-cond-s-v2-w0.5.json"),
        ("1", "dm-cond-s-v2-w1.json"), ("1.5", "dm-cond-s-v2-w1.5.json"),
        ("2", "dm-cond-s-v2-accept.json")]

print("| w | classes passing | worst class: acc. on samples / real (%) "
      "| FD | floor | FD / floor | precision | recall | accepted |")
print("|---|---|---|---|---|---|---|---|---|")
for w, f in RUNS:
    d = json.load(open(os.path.join(H, f)))
    assert d["settings"]["sampler"].endswith(f"w={w}"), (f, d["settings"]["sampler"])
    cls, ov = d["tables"][0]["rows"], d["tables"][1]["rows"]
    worst = min(cls, key=lambda r: r["acc_ratio"])
    fd, prec, rec = ov[0], ov[1], ov[2]
    npass = sum(r["pass"] == "yes" for r in cls)
    print(f"| {w} | {npass}/10 | class {worst['class']}: {worst['acc_samples']:.0f} / "
          f"{worst['acc_real']:.1f} | {fd['value']:.3f} | {fd['reference']:.3f} | "
          f"{fd['ratio']:.2f} | {prec['value']:.3f} | {rec['value']:.3f} | "
          f"{d['settings']['accepted']} |")
