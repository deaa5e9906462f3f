#!/usr/bin/env python3
"""voice_wer.py — word error rate of recognised lines against their references.

Usage: voice_wer.py REFERENCES HYPOTHESES   (one utterance a line, same order)
Both sides are normalised as the domain model's text is (tools/voice_lm.py:
lower case, numbers spelt out, punctuation dropped). Prints the WER over all
words, then the number of lines and of reference words.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from voice_lm import normalize  # noqa: E402


def words(line):
    return [w for sentence in normalize(line) for w in sentence]


def edit_distance(ref, hyp):
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        refs = [l.rstrip("\n") for l in f if l.strip()]
    with open(argv[2], encoding="utf-8") as f:
        hyps = [l.rstrip("\n") for l in f]
    if len(hyps) < len(refs):
        sys.stderr.write("voice_wer.py: %d hypotheses for %d references\n" % (len(hyps), len(refs)))
        return 1
    errors = total = 0
    for r, h in zip(refs, hyps):
        rw = words(r)
        errors += edit_distance(rw, words(h))
        total += len(rw)
    print("%.4f %d %d" % (errors / total, len(refs), total))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
