#!/usr/bin/env python3
"""voice_lm.py — builds the recogniser's domain language model at build time.

Reads every text the drills hold (drills/*.json: intent phrases, persona
lines, names, drugs, doctors) and the language layer's example utterances
(drills/nlu/*.tsv: "labels<TAB>utterance"), normalises them into spoken
word sequences, and writes into OUT_DIR:

  domain.arpa   a trigram ARPA model (absolute discounting with back-off)
  domain.vocab  its words, one a line (src/voice/asr_pocketsphinx.c gives
                the ones missing from the dictionary a pronunciation); an
                acronym written in capitals in the sources ("TPMO", "HMO")
                is followed by " spell": it is pronounced letter by letter

Usage: voice_lm.py OUT_DIR INPUT...   (no network, standard library only)
The normalisation (normalize()) is also what bench/voice_wer.py scores with.
"""
import collections
import json
import math
import os
import re
import sys

ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen " \
       "fourteen fifteen sixteen seventeen eighteen nineteen".split()
# written abbreviations, as they are spoken (the recogniser should say "doctor")
SPOKEN = {"dr": ["doctor"], "mr": ["mister"], "mrs": ["missus"], "vs": ["versus"],
          "mg": ["milligrams"], "etc": ["et", "cetera"]}
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def number_words(n):
    """An integer as spoken words, up to 999999; longer runs digit by digit."""
    if n < 20:
        return [ONES[n]]
    if n < 100:
        return [TENS[n // 10]] + ([ONES[n % 10]] if n % 10 else [])
    if n < 1000:
        return [ONES[n // 100], "hundred"] + (number_words(n % 100) if n % 100 else [])
    if n < 1000000:
        return number_words(n // 1000) + ["thousand"] + (number_words(n % 1000) if n % 1000 else [])
    return [ONES[int(d)] for d in str(n)]


def normalize(text):
    """Spoken words of one text: lower case, numbers and abbreviations spelt
    out, templates and wildcards dropped, punctuation gone. Returns a list of
    sentences (lists of words)."""
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = text.replace("*", "").replace("&", " and ").replace("%", " percent ")
    text = re.sub(r"\$(\d+)", r"\1 dollars", text)
    text = re.sub(r"(\d),(\d{3})", r"\1\2", text)
    sentences = []
    for part in re.split(r"[.!?;:\n]+", text.lower()):
        words = []
        for tok in re.findall(r"[a-z0-9']+", part):
            if tok.isdigit():
                words += number_words(int(tok))
                continue
            tok = re.sub(r"\d+", lambda m: " ".join(number_words(int(m.group()))) + " ", tok)
            for w in tok.split():
                w = w.strip("'")
                if w:
                    words += SPOKEN.get(w, [w])
        if words:
            sentences.append(words)
    return sentences


def strings_of(node):
    """Every string value in a JSON document."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for v in node.values():
            yield from strings_of(v)
    elif isinstance(node, list):
        for v in node:
            yield from strings_of(v)


def read_texts(paths):
    for path in paths:
        if path.endswith(".json"):
            with open(path, encoding="utf-8") as f:
                yield from strings_of(json.load(f))
        elif path.endswith(".tsv"):
            with open(path, encoding="utf-8") as f:
                for line in f:
                    if line.startswith("#") or "\t" not in line:
                        continue
                    yield line.rstrip("\n").split("\t", 1)[1]


def acronyms(texts):
    """Lower-cased words written as 2-5 capitals somewhere in the sources."""
    found = set()
    for t in texts:
        found.update(w.lower() for w in re.findall(r"\b[A-Z]{2,5}\b", t))
    return found


def discount(counts):
    """Absolute discount D = n1 / (n1 + 2 n2), from the count-of-counts."""
    n1 = sum(1 for c in counts.values() if c == 1)
    n2 = sum(1 for c in counts.values() if c == 2)
    d = n1 / (n1 + 2 * n2) if n1 + n2 else 0.5
    return min(max(d, 0.1), 0.9)


def build(sentences):
    c1, c2, c3 = collections.Counter(), collections.Counter(), collections.Counter()
    for s in sentences:
        w = ["<s>"] + s + ["</s>"]
        c1.update(w[1:])
        c2.update(zip(w, w[1:]))
        c3.update(zip(w, w[1:], w[2:]))
    vocab = sorted(c1)
    total = sum(c1.values())
    # unigrams: add-half smoothing, so every word keeps some mass
    p1 = {w: (c1[w] + 0.5) / (total + 0.5 * len(vocab)) for w in vocab}

    def conditional(counts, order_lower):
        """p(w | h) for seen n-grams and the back-off weight of each h."""
        d = discount(counts)
        hist = collections.Counter()
        kinds = collections.Counter()
        for g, c in counts.items():
            hist[g[:-1]] += c
            kinds[g[:-1]] += 1
        p = {g: (c - d) / hist[g[:-1]] for g, c in counts.items()}
        seen_lower = collections.defaultdict(float)
        for g in counts:
            seen_lower[g[:-1]] += order_lower(g[1:])
        bow = {}
        for h in hist:
            left = d * kinds[h] / hist[h]
            bow[h] = left / max(1.0 - seen_lower[h], 1e-9)
        return p, bow

    p2, bow2 = conditional(c2, lambda g: p1[g[0]])

    def bigram(g):
        return p2[g] if g in p2 else bow2.get(g[:1], 1.0) * p1[g[1]]

    p3, bow3 = conditional(c3, bigram)
    return vocab, p1, p2, bow2, p3, bow3


def write_arpa(path, vocab, p1, p2, bow2, p3, bow3):
    lg = math.log10
    with open(path, "w", encoding="utf-8") as f:
        f.write("\\data\\\n")
        f.write("ngram 1=%d\nngram 2=%d\nngram 3=%d\n\n" % (len(vocab) + 1, len(p2), len(p3)))
        f.write("\\1-grams:\n")
        f.write("-99.0000 <s> %.4f\n" % lg(bow2.get(("<s>",), 1.0)))
        for w in vocab:
            b = bow2.get((w,))
            f.write("%.4f %s%s\n" % (lg(p1[w]), w, " %.4f" % lg(b) if b else ""))
        f.write("\n\\2-grams:\n")
        for g in sorted(p2):
            b = bow3.get(g)
            f.write("%.4f %s%s\n" % (lg(p2[g]), " ".join(g), " %.4f" % lg(b) if b else ""))
        f.write("\n\\3-grams:\n")
        for g in sorted(p3):
            f.write("%.4f %s\n" % (lg(p3[g]), " ".join(g)))
        f.write("\n\\end\\\n")


def main(argv):
    if len(argv) < 3:
        sys.stderr.write("usage: voice_lm.py OUT_DIR INPUT...\n")
        return 2
    out = argv[1]
    texts = list(read_texts(argv[2:]))
    sentences = [s for t in texts for s in normalize(t)]
    spelled = acronyms(texts)
    if not sentences:
        sys.stderr.write("voice_lm.py: no text in the inputs\n")
        return 1
    os.makedirs(out, exist_ok=True)
    vocab, *model = build(sentences)
    tmp = os.path.join(out, "domain.arpa.tmp")
    write_arpa(tmp, vocab, *model)
    with open(os.path.join(out, "domain.vocab.tmp"), "w", encoding="utf-8") as f:
        f.writelines(w + (" spell" if w in spelled else "") + "\n" for w in vocab if w != "</s>")
    os.replace(os.path.join(out, "domain.vocab.tmp"), os.path.join(out, "domain.vocab"))
    os.replace(tmp, os.path.join(out, "domain.arpa"))
    print("voice_lm: %d sentences, %d words" % (len(sentences), len(vocab) - 1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
