#!/usr/bin/python3
"""python_quickstart.py - Lethe from Python: train a small classifier,
unlearn a forget set with two methods, compare them against Retrain, then
run the classification benchmark protocol and read its table as Python
objects.

    make                                   # builds build/liblethe.so
    PYTHONPATH=python /usr/bin/python3 examples/python_quickstart.py [DATA]

DATA is a dataset spec (default fashion-mnist; "fashion-mnist:DIR" reads
another folder). Part 1 uses a 6,000-item subset (seconds); part 2 runs
`bench classify --quick` on the whole set (minutes on 2 cores: the
MIA's SVM fits over 60,000 items dominate).
"""
import os
import sys

import numpy as np

import lethe

data = sys.argv[1] if len(sys.argv) > 1 else "fashion-mnist"
lethe.set_threads(1)

# ---- 1. train, forget, unlearn, evaluate ---------------------------------
train = lethe.Dataset.load(data, "train").subset(np.arange(6000))
test = lethe.Dataset.load(data, "test").subset(np.arange(2000))
print(train, test, sep="\n")

original = lethe.Model.create("mlp:784-128-10", train, seed=1)
r = original.train(train, test, epochs=3, batch=64, lr=0.05)
print("original: test accuracy %.2f%%" % r["test_acc"])
os.makedirs("out", exist_ok=True)
original.save("out/quickstart-original.safetensors")

forget = lethe.ForgetSet(train, "random:10%", seed=1)
retrain = lethe.Model.create("mlp:784-128-10", train, seed=1)
retrain.train(train.subset(forget.retain), test, epochs=3, batch=64,
              lr=0.05)
gold = retrain.metrics(train, test, forget)

for method, mask, optim in (("ga", None, None),
                            ("rl", "saliency:0.5", "sgd"),
                            ("rl", "random:0.5", "adam")):
    m = lethe.Model.load("out/quickstart-original.safetensors")
    rep = m.unlearn(train, forget, method, mask=mask, optim=optim,
                    lr=1e-3 if optim == "adam" else None)
    met = m.metrics(train, test, forget)
    print("%-3s %-13s %-5s UA %6.2f  RA %6.2f  TA %6.2f  MIA %6.2f  "
          "gap to Retrain %5.2f" % (rep["method"], rep["mask"],
                                    optim or "sgd", met["UA"], met["RA"],
                                    met["TA"], met["MIA"],
                                    lethe.avg_gap(met, gold)))

logits = m.logits(test)                 # a NumPy array [2000, 10]
print("logits", logits.shape, logits.dtype)

# ---- 2. a benchmark protocol, its table as Python objects ----------------
report = lethe.bench_classify(quick=True, data=data,
                              cache="out/py-quickstart-cache", progress=True)
print(report.markdown)
for row in report.table:
    print("%-10s UA %6.2f  TA %6.2f  Avg. Gap %5.2f" %
          (row["label"], row["UA"], row["TA"], row["avg_gap"]))
