"""gen_rouge_strings.py - golden ROUGE-L scores on real multi-sentence
strings for tests/test_rouge.c.

The scorer is a transcription of the code path of Google's rouge_score
package as MUSE (RougeEvalLogger: use_stemmer=False) and TOFU call it:
tokenize.py (lowercase, every run of characters outside [a-z0-9] becomes a
space, split on whitespace, Porter-stem tokens longer than 3 characters
when a stemmer is given, keep tokens matching ^[a-z0-9]+$) and
rouge_scorer._score_lcs (LCS table; precision = lcs / len(prediction),
recall = lcs / len(target), F = 2PR / (P + R), 0 when either is empty).
The stemmed variant needs NLTK's PorterStemmer (Debian python3-nltk) and
is skipped when it is absent.

Texts: fortunes from Debian's `fortunes` package (literature, science,
wisdom), paired as (target, prediction) with real edits: another fortune,
the same one with words dropped, sentences swapped, a truncation.

Format: a record is three lines
  r STEM P R F          STEM 0 or 1
  t TARGET              escaped: \\ and \n
  p PREDICTION
"""
import os
import random
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FORT = "/usr/share/games/fortunes"

try:
    from nltk.stem import porter
    STEMMER = porter.PorterStemmer()
except ImportError:
    STEMMER = None


def tokenize(text, stemmer):
    text = text.lower()
    text = re.sub(r"[^a-z0-9]+", " ", text)
    tokens = re.split(r"\s+", text)
    if stemmer:
        tokens = [stemmer.stem(x) if len(x) > 3 else x for x in tokens]
    return [x for x in tokens if re.match(r"^[a-z0-9]+$", x)]


def lcs_len(ref, can):
    rows, cols = len(ref), len(can)
    t = [[0] * (cols + 1) for _ in range(rows + 1)]
    for i in range(1, rows + 1):
        for j in range(1, cols + 1):
            if ref[i - 1] == can[j - 1]:
                t[i][j] = t[i - 1][j - 1] + 1
            else:
                t[i][j] = max(t[i - 1][j], t[i][j - 1])
    return t[-1][-1]


def score_lcs(target, prediction, stemmer):
    tt, pt = tokenize(target, stemmer), tokenize(prediction, stemmer)
    if not tt or not pt:
        return 0.0, 0.0, 0.0
    lcs = lcs_len(tt, pt)
    p, r = lcs / len(pt), lcs / len(tt)
    f = 2 * p * r / (p + r) if p + r > 0 else 0.0
    return p, r, f


def fortunes(name):
    with open(os.path.join(FORT, name), encoding="utf-8", errors="replace") as f:
        parts = f.read().split("\n%\n")
    return [p.strip() for p in parts if len(p.split()) >= 12 and "." in p]


def esc(s):
    return s.replace("\\", "\\\\").replace("\n", "\\n")


def pairs(rng):
    texts = []
    for n in ("literature", "science", "wisdom"):
        if os.path.exists(os.path.join(FORT, n)):
            texts += fortunes(n)[:40]
    rng.shuffle(texts)
    texts = texts[:24]
    for i, t in enumerate(texts):
        w = t.split(" ")
        kind = i % 4
        if kind == 0:
            yield t, texts[(i + 7) % len(texts)]
        elif kind == 1:
            yield t, " ".join(x for k, x in enumerate(w) if k % 3 != 1)
        elif kind == 2:
            s = re.split(r"(?<=[.!?])\s+", t)
            yield t, " ".join(s[1:] + s[:1]) + " And so it goes."
        else:
            yield t, " ".join(w[: len(w) // 2]) + " " + texts[(i + 3) % len(texts)]


def main():
    if not os.path.isdir(FORT):
        print("gen_rouge_strings.py: Debian's fortunes are not installed; skipped")
        return
    rng = random.Random(20261206)
    lines = []
    for target, pred in pairs(rng):
        for stem in ([0, 1] if STEMMER else [0]):
            p, r, f = score_lcs(target, pred, STEMMER if stem else None)
            lines += ["r %d %r %r %r" % (stem, p, r, f), "t " + esc(target),
                      "p " + esc(pred)]
    with open(os.path.join(HERE, "rouge_strings.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote rouge_strings.txt (%d records%s)" % (len(lines) // 3,
          "" if STEMMER else ", no stemmer: python3-nltk absent"))


if __name__ == "__main__":
    main()
