#!/usr/bin/env python3
"""gen_tokenizer.py - reference data for tests/test_tokenizer.c.

A plain-Python byte-level BPE (GPT-2's algorithm, written from its
description): the GPT-2 pre-tokenizer regex (with the `regex` module), the
byte -> printable-character map, a trainer that merges the most frequent
pair (ties: smallest (left id, right id), the rule Lethe documents) by
recounting from scratch every step, and an encoder that applies merges by
rank. It writes, under tests/golden/tokenizer/:
  hf_str.json   tokenizer.json trained on corpus.txt, merges as "a b"
  hf_pair.json  the same model with shuffled ids, merges as ["a", "b"]
                pairs, \\u escapes and an extra non-special added token
  expected.json test strings and the ids the reference encoder gives
With --unicode-table it prints src/io/tokenizer_unicode.c instead (letter
and number ranges as the `regex` module's \\p{L} and \\p{N} see them).
"""
import json
import os
import random
import sys

import regex

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "tokenizer")
PAT = regex.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+"""
                    r"""| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")


def byte_chars():
    """byte -> printable character, as GPT-2's encoder does."""
    keep = (list(range(33, 127)) + list(range(161, 173))
            + list(range(174, 256)))
    cps, n = {}, 0
    for b in range(256):
        if b in keep:
            cps[b] = b
        else:
            cps[b] = 256 + n
            n += 1
    return {b: chr(c) for b, c in cps.items()}


BC = byte_chars()


def to_chars(bs):
    return "".join(BC[b] for b in bs)


def split_added(text, added):
    """[(piece, is_added)], leftmost-longest matching of added tokens."""
    out, pos, start = [], 0, 0
    order = sorted(added, key=len, reverse=True)
    while pos < len(text):
        hit = next((a for a in order if text.startswith(a, pos)), None)
        if hit is None:
            pos += 1
            continue
        if start < pos:
            out.append((text[start:pos], False))
        out.append((hit, True))
        pos += len(hit)
        start = pos
    if start < len(text):
        out.append((text[start:], False))
    return out


def words(text, added=()):
    for piece, is_added in split_added(text, added):
        if not is_added:
            for w in PAT.findall(piece):
                yield to_chars(w.encode("utf-8"))


def train(text, vocab_size, min_freq, specials):
    vocab = {}
    for s in specials:
        vocab[s] = len(vocab)
    for ch in sorted(BC.values()):
        vocab[ch] = len(vocab)
    counts = {}
    for w in words(text, specials):
        counts[w] = counts.get(w, 0) + 1
    seqs = {w: [vocab[c] for c in w] for w in counts}
    inv = {i: s for s, i in vocab.items()}
    merges, done = [], set()
    while len(vocab) < vocab_size:
        pc = {}
        for w, seq in seqs.items():
            for p in zip(seq, seq[1:]):
                pc[p] = pc.get(p, 0) + counts[w]
        if not pc:
            break
        best = min(pc, key=lambda p: (-pc[p], p))
        if pc[best] < min_freq:
            break
        s = inv[best[0]] + inv[best[1]]
        if s not in vocab:
            vocab[s] = len(vocab)
            inv[vocab[s]] = s
        if best not in done:
            merges.append((inv[best[0]], inv[best[1]]))
            done.add(best)
        nid = vocab[s]
        for w, seq in seqs.items():
            out, i = [], 0
            while i < len(seq):
                if i + 1 < len(seq) and (seq[i], seq[i + 1]) == best:
                    out.append(nid)
                    i += 2
                else:
                    out.append(seq[i])
                    i += 1
            seqs[w] = out
    return vocab, merges


def bpe(word, ranks):
    """GPT-2's bpe(): merge the lowest-ranked pair everywhere, repeat."""
    parts = list(word)
    while len(parts) > 1:
        pairs = set(zip(parts, parts[1:]))
        best = min(pairs, key=lambda p: ranks.get(p, float("inf")))
        if best not in ranks:
            break
        out, i = [], 0
        while i < len(parts):
            if i + 1 < len(parts) and (parts[i], parts[i + 1]) == best:
                out.append(parts[i] + parts[i + 1])
                i += 2
            else:
                out.append(parts[i])
                i += 1
        parts = out
    return parts


def encode(text, vocab, merges, added):
    """added: {content: id}."""
    ranks = {tuple(m): r for r, m in enumerate(merges)}
    ids = []
    for piece, is_added in split_added(text, list(added)):
        if is_added:
            ids.append(added[piece])
            continue
        for w in PAT.findall(piece):
            ids += [vocab[p] for p in bpe(to_chars(w.encode("utf-8")), ranks)]
    return ids


def added_entry(i, content, special):
    return {"id": i, "content": content, "single_word": False,
            "lstrip": False, "rstrip": False, "normalized": not special,
            "special": special}


def hf_json(vocab, merges, added, pair_merges):
    bl = {"type": "ByteLevel", "add_prefix_space": False,
          "trim_offsets": True, "use_regex": True}
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": added, "normalizer": None, "pre_tokenizer": bl,
        "post_processor": dict(bl, trim_offsets=False), "decoder": bl,
        "model": {
            "type": "BPE", "dropout": None, "unk_token": None,
            "continuing_subword_prefix": None, "end_of_word_suffix": None,
            "fuse_unk": False, "byte_fallback": False,
            "vocab": dict(sorted(vocab.items(), key=lambda kv: kv[1])),
            "merges": ([list(m) for m in merges] if pair_merges
                       else [" ".join(m) for m in merges]),
        },
    }


CASES = [
    "Hello world",
    "The quick brown fox jumps over the lazy dog.",
    "don't stop: it's what we'll do, they're sure I'm right, you've said, he'd go",
    "DON'T 'S 'st ''s '' 'x",
    "  two leading spaces and trailing ones   ",
    "multiple    spaces\tand\ttabs\n\nnew lines\r\nand CRLF\n",
    "naïve café 東京 🙂 Ελληνικά русский",
    "numbers 12345 and 3.14159, ²³ ٣٤ Ⅻ",
    "punctuation!!! ...?? (parens) [brackets] {braces} #hash @at",
    "a<|endoftext|>b <|endoftext|> c<|endoftext|><|endoftext|>",
    "nbsp\u00a0here and\u3000ideographic space, \u2028line sep",
    "\n",
    " ",
    "x",
    "",
    "emoji 🙂🙃 family 👨‍👩‍👧 and flags 🇫🇷",
    "tabs\t\t\tbefore\t words",
]


# Characters for the pre-tokenizer cases: letters, numbers and marks of
# several scripts, every White_Space kind, apostrophes and contractions.
POOL = (list("aZ'sStTreRvVlLmMdD09 \t\n\r\x0b\x0c.!-")
        + ["\u00a0", "\u3000", "\u2028", "\u2029", "\u0085", "\u1680",
           "\u202f", "\u205f", "\u2000", "\u200a", "\u200b", "\u00e9",
           "\u00df", "\u6771", "\u0663", "\u00b2", "\u216b", "\u0301",
           "\u200d", "\U0001f642", "\u05d0", "\u0e31", "\u03a9", "\x1c",
           "\x1f", "\u00ad", "\ufeff", "\u01c5", "\u02b0", "\u3007",
           "\U0001d7d8", "  ", "   ", "'ll", "'ve", "'re"])


def pretok_cases():
    rng = random.Random(11)
    out = []
    for i in range(40):
        n = rng.randint(1, 40)
        text = "".join(rng.choice(POOL) for _ in range(n))
        out.append({"text": text, "words": PAT.findall(text)})
    return out


def permuted(vocab, specials, seed):
    """The same vocab with shuffled ids (specials keep theirs)."""
    rest = [s for s in vocab if s not in specials]
    ids = list(range(len(specials), len(vocab)))
    random.Random(seed).shuffle(ids)
    out = {s: vocab[s] for s in specials}
    out.update(zip(rest, ids))
    return out


def unicode_table():
    def ranges(pat):
        p, r, st = regex.compile(pat), [], None
        for c in range(0x110001):
            m = c < 0x110000 and p.match(chr(c)) is not None
            if m and st is None:
                st = c
            if not m and st is not None:
                r.append((st, c - 1))
                st = None
        return r

    out = ["/*",
           " * tokenizer_unicode.c - Unicode letter (\\p{L}) and number",
           " * (\\p{N}) ranges and White_Space for the GPT-2 pre-tokenizer.",
           " * Generated by tests/golden/gen_tokenizer.py --unicode-table",
           " * from the Python `regex` module's Unicode data; do not edit.",
           " */",
           '#include "tokenizer_internal.h"', ""]
    for name, pat in (("letter", r"\p{L}"), ("number", r"\p{N}")):
        r = ranges(pat)
        out.append("static const uint32_t lt_tok_%s[%d][2] = {" % (name, len(r)))
        items = ["{0x%x, 0x%x}" % x for x in r]
        for i in range(0, len(items), 4):
            out.append("    " + ", ".join(items[i:i + 4]) + ",")
        out.append("};")
        out.append("")
    out += [
        "static bool lt_tok_in(const uint32_t (*r)[2], size_t n, uint32_t cp)",
        "{",
        "    size_t lo = 0, hi = n;",
        "    while (lo < hi) {",
        "        size_t mid = (lo + hi) / 2;",
        "        if (cp < r[mid][0])",
        "            hi = mid;",
        "        else if (cp > r[mid][1])",
        "            lo = mid + 1;",
        "        else",
        "            return true;",
        "    }",
        "    return false;",
        "}",
        "",
        "bool lt_tok_is_letter(uint32_t cp)",
        "{",
        "    if (cp < 128)",
        "        return (cp | 32) >= 'a' && (cp | 32) <= 'z';",
        "    return lt_tok_in(lt_tok_letter,",
        "                     sizeof lt_tok_letter / sizeof lt_tok_letter[0], cp);",
        "}",
        "",
        "bool lt_tok_is_number(uint32_t cp)",
        "{",
        "    if (cp < 128)",
        "        return cp >= '0' && cp <= '9';",
        "    return lt_tok_in(lt_tok_number,",
        "                     sizeof lt_tok_number / sizeof lt_tok_number[0], cp);",
        "}",
        "",
        "/* The White_Space property (what \\s matches in the regex). */",
        "bool lt_tok_is_space(uint32_t cp)",
        "{",
        "    return (cp >= 0x9 && cp <= 0xd) || cp == 0x20 || cp == 0x85 ||",
        "           cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||",
        "           cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f ||",
        "           cp == 0x3000;",
        "}",
    ]
    spaces = [c for c in range(0x110000) if regex.match(r"\s", chr(c))]
    want = ([*range(9, 14), 0x20, 0x85, 0xa0, 0x1680, *range(0x2000, 0x200b),
             0x2028, 0x2029, 0x202f, 0x205f, 0x3000])
    assert spaces == want, spaces
    print("\n".join(out))


def main():
    if "--unicode-table" in sys.argv:
        unicode_table()
        return
    with open(os.path.join(OUT, "corpus.txt"), encoding="utf-8",
              newline="") as f:
        corpus = f.read()
    specials = ["<|endoftext|>"]
    vocab, merges = train(corpus, 600, 2, specials)
    added = [added_entry(0, "<|endoftext|>", True)]
    with open(os.path.join(OUT, "hf_str.json"), "w", encoding="utf-8") as f:
        json.dump(hf_json(vocab, merges, added, False), f, indent=2,
                  ensure_ascii=False)
        f.write("\n")
    pv = permuted(vocab, specials, 7)
    pv["<pad>"] = len(pv)
    added2 = added + [added_entry(len(pv) - 1, "<pad>", False)]
    with open(os.path.join(OUT, "hf_pair.json"), "w", encoding="utf-8") as f:
        json.dump(hf_json(pv, merges, added2, True), f, indent=1,
                  ensure_ascii=True)
        f.write("\n")
    cases = []
    for text in CASES + [corpus[:400]]:
        cases.append({
            "text": text,
            "ids_str": encode(text, vocab, merges, {"<|endoftext|>": 0}),
            "ids_pair": encode(text, pv, merges,
                               {"<|endoftext|>": 0, "<pad>": pv["<pad>"]}),
        })
    with open(os.path.join(OUT, "expected.json"), "w", encoding="utf-8") as f:
        json.dump({"vocab_size": 600, "min_frequency": 2,
                   "special_tokens": specials, "n_merges": len(merges),
                   "cases": cases, "pretok": pretok_cases()}, f, indent=1, ensure_ascii=True)
        f.write("\n")


if __name__ == "__main__":
    main()
