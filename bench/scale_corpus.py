#!/usr/bin/env python3
"""Writes a candidate corpus of N alpaca lines of real English text for bench/scale.sh.

The text is the documents of `ntk-select pretrain-data` (WordNet glosses, GCIDE,
the Jargon File, FOLDOC, The Devil's Dictionary, fortunes: Debian packages),
joined into one word stream. Line i takes a window of 24-120 words at an offset
drawn from a seeded generator and one of eight instruction templates; the
window is cut into input and output at a drawn point. A text already written is
drawn again, so no two lines are equal (ids aside).
The same arguments give the same bytes. Standard library only.

Usage: scale_corpus.py DOCS.jsonl N OUT.jsonl [SEED]
"""
import hashlib
import json
import random
import sys

TEMPLATES = [
    "Continue the text.",
    "Finish the passage below.",
    "What comes next in this dictionary entry?",
    "Complete the definition.",
    "Write the rest of this paragraph.",
    "Go on with the explanation.",
    "Add the sentences that follow.",
    "Extend the text in the same style.",
]


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    docs, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    seed = int(sys.argv[4]) if len(sys.argv) == 5 else 1234
    words = []
    with open(docs, encoding="utf-8") as f:
        for line in f:
            words.extend(json.loads(line)["text"].split())
    if len(words) < 1000:
        sys.exit(f"scale_corpus: {docs} holds only {len(words)} words")
    rng = random.Random(seed)
    seen = set()
    with open(out, "w", encoding="utf-8", buffering=1 << 22) as f:
        for i in range(n):
            while True:  # draw again until the text is new
                length = rng.randint(24, 120)
                start = rng.randrange(len(words) - length)
                template = TEMPLATES[rng.randrange(len(TEMPLATES))]
                window = words[start:start + length]
                cut = rng.randint(8, length - 8)
                text = (template, " ".join(window[:cut]), " ".join(window[cut:]))
                digest = hashlib.blake2b("\0".join(text).encode(), digest_size=16).digest()
                if digest not in seen:
                    seen.add(digest)
                    break
            record = {"id": f"scale-{i}", "instruction": text[0], "input": text[1], "output": text[2]}
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"scale_corpus: {n} lines from {len(words)} words -> {out}")


if __name__ == "__main__":
    main()
