#!/usr/bin/env python3
"""Writes NAME.index and NAME.dict.dz from NAME.txt, the hand-written dictd
fixtures of tests/unit/test_dictd.cpp and test_pretrain_corpus.cpp.

NAME.txt: entries, each opened by a line "=== headword[|headword...]"; every
headword gets an index line pointing at the entry's text (the lines after
its opening line). Index lines are sorted by headword, as dictd's are.

    python3 tests/data/dictd/make_dictd.py tests/data/dictd/gcide.txt
"""
import gzip
import sys

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def b64(n):
    s = ""
    while True:
        s = B64[n % 64] + s
        n //= 64
        if n == 0:
            return s


def main(path):
    name = path[: -len(".txt")]
    entries = []  # (headwords, text)
    for line in open(path, encoding="utf-8").read().split("\n"):
        if line.startswith("=== "):
            entries.append((line[4:].split("|"), []))
        elif entries:
            entries[-1][1].append(line)
    data, index = b"", []
    for heads, lines in entries:
        text = ("\n".join(lines).rstrip("\n") + "\n\n").encode("utf-8")
        for h in heads:
            index.append((h, len(data), len(text)))
        data += text
    index.sort(key=lambda e: e[0].lower())
    with open(name + ".index", "w", encoding="utf-8") as f:
        for h, off, n in index:
            f.write(f"{h}\t{b64(off)}\t{b64(n)}\n")
    with open(name + ".dict.dz", "wb") as f:
        f.write(gzip.compress(data, mtime=0))


if __name__ == "__main__":
    main(sys.argv[1])
