#!/usr/bin/env python3
"""Independent references for `ntk-select score` and `select`, with h5py.

Usage:
  select_reference.py scores RUN
      Reads RUN/grads/candidates.json (its shard files), RUN/grads/domain_mean.h5 and
      RUN/score/scores.h5; recomputes every score with a naive double loop (Python
      floats are IEEE doubles; each product of two float32 values is exact in double,
      and the sum runs in column order as ntk-select's) and compares bit for bit, with
      the records and ids. Prints "ok N" and exits 0, or one line per problem and 1.
  select_reference.py lda RUN SHRINK
      Recomputes the score.rule lda scores of RUN/score/scores.h5 from RUN/grads/domain.h5
      and the candidate rows with numpy, another way than ntk-select: the ridge inverse
      through the SVD of the stacked centred rows (as in Woodbury) instead of a Cholesky
      factor of the covariance. Compares to a relative error of 1e-9 of the largest score.
  select_reference.py shuffle N SEED
      Prints the Fisher-Yates permutation of 0..N-1 over splitmix64 seeded with SEED
      (include/ntks/select/shuffle.h), one number per line.
"""

import json
import os
import sys

import h5py
import numpy as np

M64 = (1 << 64) - 1


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & M64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return state, z ^ (z >> 31)


def shuffle(n, seed):
    items = list(range(n))
    state = seed & M64
    for i in range(n, 1, -1):
        limit = (1 << 64) - ((1 << 64) % i)
        while True:
            state, x = splitmix64(state)
            if x < limit:
                break
        j = x % i
        items[i - 1], items[j] = items[j], items[i - 1]
    return items


def candidate_rows(grads):
    with open(os.path.join(grads, "candidates.json"), encoding="utf-8") as f:
        index = json.load(f)
    rows = []
    for shard in index["shards"]:
        with h5py.File(os.path.join(grads, shard["file"]), "r") as f:
            rows.append(f["features"][:].astype(np.float64))
    return np.concatenate(rows)


def check_lda(run, shrink):
    grads = os.path.join(run, "grads")
    C = candidate_rows(grads)
    with h5py.File(os.path.join(grads, "domain.h5"), "r") as f:
        D = f["features"][:].astype(np.float64)
    mu_c, mu_d = C.mean(0), D.mean(0)
    X = np.concatenate([D - mu_d, C - mu_c])
    _, s, vt = np.linalg.svd(X, full_matrices=False)
    ev = s ** 2 / len(X)
    lam = shrink * ev.sum() / min(len(X), X.shape[1])
    v = mu_d - mu_c
    proj = vt @ v
    w = vt.T @ (proj / (ev + lam)) + (v - vt.T @ proj) / lam
    want = (C - mu_c) @ w
    with h5py.File(os.path.join(run, "score", "scores.h5"), "r") as f:
        got = f["scores"][:].astype(np.float64)
        meta = json.loads(f.attrs["metadata"])
    problems = []
    if meta.get("rule") != "lda" or abs(meta.get("lambda", 0) - lam) > 1e-9 * lam:
        problems.append("metadata rule %r lambda %r, expected lda and %r" % (meta.get("rule"), meta.get("lambda"), lam))
    err = np.abs(got - want).max() / np.abs(want).max()
    if not err < 1e-9:
        problems.append("largest relative difference %g" % err)
    if problems:
        print("\n".join(problems))
        return 1
    print("ok %d" % len(want))
    return 0


def check_scores(run):
    grads = os.path.join(run, "grads")
    with open(os.path.join(grads, "candidates.json"), encoding="utf-8") as f:
        index = json.load(f)
    rows, records, ids = [], [], []
    for shard in index["shards"]:
        with h5py.File(os.path.join(grads, shard["file"]), "r") as f:
            rows.append(f["features"][:].astype(np.float32))
            records.extend(int(r) for r in f["indices"][:])
            ids.extend(f["ids"].asstr()[:])
    rows = np.concatenate(rows)
    with h5py.File(os.path.join(grads, "domain_mean.h5"), "r") as f:
        mean = [float(v) for v in f["features"][0].astype(np.float32)]
    want = []
    for row in rows:
        s = 0.0
        for j, v in enumerate(row):
            s += float(v) * mean[j]
        want.append(s)
    problems = []
    with h5py.File(os.path.join(run, "score", "scores.h5"), "r") as f:
        if f.attrs["format"] != "ntks-scores" or f.attrs["format_version"] != 1:
            problems.append("format attributes: %r %r" % (f.attrs["format"], f.attrs["format_version"]))
        json.loads(f.attrs["metadata"])
        got = [float(v) for v in f["scores"][:]]
        got_records = [int(v) for v in f["records"][:]]
        got_ids = list(f["ids"].asstr()[:])
    if got_records != records:
        problems.append("records %s, expected %s" % (got_records, records))
    if got_ids != ids:
        problems.append("ids %s, expected %s" % (got_ids, ids))
    if len(got) != len(want):
        problems.append("%d scores, expected %d" % (len(got), len(want)))
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            problems.append("row %d (%s): score %r, expected %r" % (i, ids[i], g, w))
    if problems:
        print("\n".join(problems))
        return 1
    print("ok %d" % len(want))
    return 0


def main(argv):
    if len(argv) == 3 and argv[1] == "scores":
        return check_scores(argv[2])
    if len(argv) == 4 and argv[1] == "lda":
        return check_lda(argv[2], float(argv[3]))
    if len(argv) == 4 and argv[1] == "shuffle":
        print("\n".join(str(i) for i in shuffle(int(argv[2]), int(argv[3]))))
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
