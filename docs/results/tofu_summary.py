#!/usr/bin/python3
"""tofu_summary.py - the condensed TOFU tables of docs/results/README.md
from a `lethe bench tofu` (or `lethe report merge`) JSON report: forget
quality and model utility (mean ± sample std over the runs) per method and
mask x optimizer, and the baseline-mask table.

    python3 docs/results/tofu_summary.py docs/results/tofu-forget10.json
"""
import json
import sys


def cell(row, key, sci=1e-3):
    m, s = row.get(key), row.get(key + "_std")
    if m is None:
        return "-"
    fmt = (lambda v: "%.2e" % v) if 0 < abs(m) < sci else (lambda v: "%.3f" % v)
    if s is None or row.get("seeds", 1) < 2:
        return fmt(m)
    return "%s ± %s" % (fmt(m), fmt(s) if s else "0")


def main(path):
    rep = json.load(open(path, encoding="utf-8"))
    rows = rep["tables"][0]["rows"]
    combos = []
    for r in rows:
        if r["mask"] in ("none", "wagle") and r["optim"] != "-":
            c = (r["mask"], r["optim"])
            if c not in combos:
                combos.append(c)
    methods = []
    for r in rows:
        if r["optim"] != "-" and r["method"] not in methods:
            methods.append(r["method"])
    head = ["Method (lr)"] + ["%s%s" % (o, "" if m == "none" else " + WAGLE")
                              for m, o in combos]
    print("FQ / MU, mean ± std over %s runs\n" % rows[0].get("seeds", 1))
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        if r["optim"] == "-":
            print("| %s | FQ %s, MU %s |%s" % (r["method"], cell(r, "forget_quality"),
                                                cell(r, "model_utility"),
                                                " |" * (len(head) - 2)))
    for meth in methods:
        lr = next(r["lr"] for r in rows if r["method"] == meth and r["optim"] != "-")
        cells = []
        for m, o in combos:
            r = next((r for r in rows if r["method"] == meth and r["mask"] == m
                      and r["optim"] == o), None)
            cells.append("-" if r is None else "%s / %s%s" % (
                cell(r, "forget_quality"), cell(r, "model_utility"),
                " (diverged)" if r.get("diverged") else ""))
        print("| %s (%g) | %s |" % (meth, lr, " | ".join(cells)))
    base = [r for r in rows if r["mask"] not in ("none", "wagle", "-")]
    if base:
        meths = []
        for r in base:
            if r["method"] not in meths:
                meths.append(r["method"])
        print("\n| Mask (%s) | %s |" % (base[0]["optim"], " | ".join(
            "%s FQ / MU" % m for m in meths)))
        print("|---|" + "---|" * len(meths))
        masks = []
        for r in rows:
            if r["optim"] == base[0]["optim"] and r["mask"] != "-" and \
               r["method"] in meths and r["mask"] not in masks:
                masks.append(r["mask"])
        for mk in masks:
            cells = []
            for meth in meths:
                r = next((r for r in rows if r["method"] == meth and
                          r["mask"] == mk and r["optim"] == base[0]["optim"]), None)
                cells.append("-" if r is None else "%s / %s" % (
                    cell(r, "forget_quality"), cell(r, "model_utility")))
            print("| %s | %s |" % (mk, " | ".join(cells)))


if __name__ == "__main__":
    main(sys.argv[1])
