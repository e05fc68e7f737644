"""gen_porter_stems.py - golden Porter stems for tests/test_rouge.c.

Writes porter_stems.txt next to this script: one "word stem" pair a line,
the stem from NLTK's PorterStemmer() in its default NLTK_EXTENSIONS mode,
which is the stemmer rouge_score's RougeScorer(use_stemmer=True) builds.
Words are real English: every distinct word of 4+ letters in the glosses of
Debian's wordnet-base (/usr/share/wordnet/data.*), chosen deterministically
(by md5 of the word) up to a few per word ending so that every suffix rule
of the algorithm is exercised, plus NLTK's irregular forms and the examples
of Porter's 1980 paper. Needs Debian's python3-nltk and wordnet-base; when
NLTK is absent it says so and leaves the committed table alone.
"""
import glob
import hashlib
import os
import re
import sys

try:
    from nltk.stem import porter
except ImportError:
    print("gen_porter_stems.py: python3-nltk is not installed; skipped")
    sys.exit(0)

HERE = os.path.dirname(os.path.abspath(__file__))

# Endings that select which rule fires, longest first within a family.
ENDINGS = """
sses ies ss s eed ied ed ing ating bling izing ying y
ational tional enci anci izer bli abli alli entli eli ousli ization ation
ator alism iveness fulness ousness aliti iviti biliti fulli logi
icate ative alize iciti ical ful ness
al ance ence er ic able ible ant ement ment ent sion tion ion ou ism ate
iti ous ive ize e ll
""".split()

PAPER = """caresses ponies ties caress cats feed agreed plastered bled motoring
sing conflated troubled sized hopping tanned falling hissing fizzed failing
filing happy sky relational conditional rational valenci hesitanci digitizer
conformabli radicalli differentli vileli analogousli vietnamization
predication operator feudalism decisiveness hopefulness callousness
formaliti sensitiviti sensibiliti triplicate formative formalize
electriciti electrical hopeful goodness revival allowance inference
airliner gyroscopic adjustable defensible irritant replacement adjustment
dependent adoption homologou communism activate angulariti homologous
effective bowdlerize probate rate cease controll roll generalizations
oscillators""".split()

IRREGULAR = """sky skies dying lying tying news innings inning outings outing
cannings canning howe proceed exceed succeed""".split()

PER_ENDING = 16


def gloss_words():
    words = set()
    for f in sorted(glob.glob("/usr/share/wordnet/data.*")):
        with open(f, encoding="latin-1") as fh:
            for line in fh:
                if line.startswith("  ") or "|" not in line:
                    continue
                gloss = line.split("|", 1)[1].lower()
                words.update(w for w in re.findall(r"[a-z]+", gloss) if len(w) > 3)
    return words


def ending_of(word):
    best = ""
    for e in ENDINGS:
        if word.endswith(e) and len(e) > len(best):
            best = e
    return best


def main():
    words = gloss_words()
    if not words:
        sys.exit("gen_porter_stems.py: no WordNet glosses (install wordnet-base)")
    key = lambda w: hashlib.md5(w.encode()).hexdigest()
    by_end = {}
    for w in sorted(words, key=key):
        lst = by_end.setdefault(ending_of(w), [])
        if len(lst) < PER_ENDING:
            lst.append(w)
    chosen = set(PAPER) | set(IRREGULAR)
    for lst in by_end.values():
        chosen.update(lst)
    stemmer = porter.PorterStemmer()
    assert stemmer.mode == "NLTK_EXTENSIONS"
    path = os.path.join(HERE, "porter_stems.txt")
    with open(path + ".tmp", "w") as fh:
        for w in sorted(chosen):
            fh.write("%s %s\n" % (w, stemmer.stem(w)))
    os.replace(path + ".tmp", path)
    print("wrote %s (%d words)" % (path, len(chosen)))


if __name__ == "__main__":
    main()
