#!/usr/bin/env python3
"""An independent DSIR (hashed n-gram importance weights) in Python and numpy, written
from the DSIR paper and the data-selection package's description (p-lambda/dsir,
HashedNgramDSIR) the way DSIR itself computes it: Python's str.lower() and re, hashlib's
SHA-256, dense numpy count vectors. For the unit tests of include/ntks/select/dsir.h.

Usage:
  dsir_reference.py words IN.json
      IN.json: a list of strings. Prints a JSON list: each string's words,
      re.findall(r"\\w+|[^\\w\\s]+", text.lower()) (NLTK's WordPunctTokenizer).
  dsir_reference.py weights IN.json
      IN.json: {"domain": [...], "pool": [...], "buckets": B, "ngram": n,
                "smoothing": lambda, "min_words": m}.
      Prints JSON {"target_totals": [...], "raw_totals": [...], "log_ratio": [...],
                   "log_weights": [...]} (a log weight of null: fewer than m words).
"""

import hashlib
import json
import re
import sys

import numpy as np

WORD_PUNCT = re.compile(r"\w+|[^\w\s]+")


def words(text):
    return WORD_PUNCT.findall(text.lower())


def bucket(ngram, buckets):
    return int(hashlib.sha256(ngram.encode("utf-8")).hexdigest(), 16) % buckets


def counts(text, buckets, n):
    ws = words(text)
    c = np.zeros(buckets, dtype=np.int64)
    for order in range(1, n + 1):
        for i in range(len(ws) - order + 1):
            c[bucket(" ".join(ws[i:i + order]), buckets)] += 1
    return c, len(ws)


def weights(spec):
    b, n = spec["buckets"], spec["ngram"]
    target = sum((counts(t, b, n)[0] for t in spec["domain"]), np.zeros(b, dtype=np.int64))
    pool = [counts(t, b, n) for t in spec["pool"]]
    raw = sum((c for c, _ in pool), np.zeros(b, dtype=np.int64))
    raw_p = raw / raw.sum()
    smoothed = target + spec["smoothing"]
    target_p = smoothed / smoothed.sum()
    log_ratio = np.log(target_p + 1e-8) - np.log(raw_p + 1e-8)
    log_w = [float(c @ log_ratio) if w >= spec["min_words"] else None for c, w in pool]
    return {"target_totals": target.tolist(), "raw_totals": raw.tolist(), "log_ratio": log_ratio.tolist(),
            "log_weights": log_w}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("words", "weights"):
        sys.exit(__doc__)
    with open(sys.argv[2], encoding="utf-8") as f:
        spec = json.load(f)
    out = [words(t) for t in spec] if sys.argv[1] == "words" else weights(spec)
    json.dump(out, sys.stdout, ensure_ascii=True)
    print()


if __name__ == "__main__":
    main()
