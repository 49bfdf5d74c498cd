#!/usr/bin/env python3
"""An independent TSDS (task-specific data selection: kNN optimal transport with the KDE
diversity term) in numpy, written from the TSDS paper and repository (ZifanL/TSDS) in
plain brute force, for the unit tests of include/ntks/select/tsds.h:

  - the rows centred on the candidates' mean and L2-normalised (as ntk-select
    prepares them), then every distance from a full float64 distance matrix, neighbours by np.lexsort on
    (distance, index), no Faiss;
  - the stopping level found by evaluating, at every breakpoint in order, the whole
    alignment cost sum_j cost_j from scratch (no heap, no running total), each cost_j
    summed on its own;
  - the mass of each query water-filled along its list: each neighbour takes
    min(1 / (n s kde), what is left), the last prefetched one takes the rest.

Usage:
  tsds_reference.py DIR
      DIR/spec.json: {"nq", "n", "dim", "alpha", "c", "sigma", "max_k", "kde_k",
                      "center", "normalize"}; DIR/queries.f32 [nq, dim] and DIR/candidates.f32
      [n, dim], little-endian float32. Writes DIR/reference.json: {"k", "kde_k", "s",
      "prefetched", "probs": [n]}.
"""

import json
import os
import sys

import numpy as np


def prepared(x, mean, normalize):
    # Float64 sums in the order ntk-select adds (so float32 roundings agree): the
    # mean row by row, the squared norm column by column.
    if mean is not None:
        x = (x.astype(np.float64) - mean).astype(np.float32)
    if not normalize:
        return x
    sq = np.zeros(x.shape[0])
    for j in range(x.shape[1]):
        sq += x[:, j].astype(np.float64) ** 2
    return (x.astype(np.float64) / np.sqrt(sq)[:, None]).astype(np.float32)


def column_mean(x):
    total = np.zeros(x.shape[1])
    for row in x.astype(np.float64):
        total += row
    return total / x.shape[0]


def sq_dists(a, b):
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    return ((a64[:, None, :] - b64[None, :, :]) ** 2).sum(axis=2)


def nearest(d2_row, k):
    order = np.lexsort((np.arange(len(d2_row)), d2_row))  # distance, then index
    return order[:k]


def tsds(spec, queries, candidates):
    nq, n = spec["nq"], spec["n"]
    k = min(n, max(2, min(spec["max_k"], n // 10)))
    kde_k = max(1, min(spec["kde_k"], n // 10))
    mean = column_mean(candidates) if spec["center"] else None
    queries = prepared(queries, mean, spec["normalize"])
    candidates = prepared(candidates, mean, spec["normalize"])
    d2 = sq_dists(queries, candidates)
    lists = np.array([nearest(d2[j], k) for j in range(nq)])
    dist = np.sqrt(np.take_along_axis(d2, lists, axis=1))

    union = np.unique(lists)
    if spec["sigma"] == 0:
        kde_of = {int(u): 1.0 for u in union}
    else:
        du = sq_dists(candidates[union], candidates[union])
        m = min(kde_k, len(union))
        kde_of = {}
        for i, u in enumerate(union):
            near = nearest(du[i], m)
            kde_of[int(u)] = float(np.maximum(0.0, 1.0 - du[i][near] / spec["sigma"] ** 2).sum())
    kde = np.vectorize(lambda r: kde_of[int(r)])(lists)

    # Breakpoints c_jt = sum_{i<=t} 1 / kde_ji, t < k - 1, in (c, t, j) order, and the
    # alignment cost of query j once its breakpoint t is passed, each summed on its own.
    cum = np.cumsum(1.0 / kde, axis=1)
    points = sorted((cum[j, t], t, j) for j in range(nq) for t in range(k - 1))
    cost = np.array([[((dist[j, t + 1] - dist[j, :t + 1]) / kde[j, :t + 1]).sum() for t in range(k - 1)]
                     for j in range(nq)])
    owner = np.array([j for (_, _, j) in points])

    def passed(p):  # per query, the last breakpoint among the first p popped (-1: none)
        return np.bincount(owner[:p], minlength=nq) - 1

    s, last = points[-1][0], [k - 2] * nq
    for p, (c, t, j) in enumerate(points):
        upto = passed(p + 1)
        total = sum(cost[jj, upto[jj]] for jj in range(nq) if upto[jj] >= 0)
        if spec["alpha"] / spec["c"] * total >= (1 - spec["alpha"]) * nq:
            s, last = c, passed(p).tolist()
            break

    probs = np.zeros(n)
    for j in range(nq):
        left = 1.0 / nq
        for t in range(k):
            give = left if t == k - 1 else min(1.0 / (nq * s * kde[j, t]), left)
            probs[lists[j, t]] += give
            left -= give
    return {"k": k, "kde_k": kde_k, "s": s, "prefetched": len(union), "probs": probs.tolist(), "last": last}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    d = sys.argv[1]
    with open(os.path.join(d, "spec.json"), encoding="utf-8") as f:
        spec = json.load(f)
    q = np.fromfile(os.path.join(d, "queries.f32"), dtype="<f4").reshape(spec["nq"], spec["dim"])
    c = np.fromfile(os.path.join(d, "candidates.f32"), dtype="<f4").reshape(spec["n"], spec["dim"])
    with open(os.path.join(d, "reference.json"), "w", encoding="utf-8") as f:
        json.dump(tsds(spec, q, c), f)


if __name__ == "__main__":
    main()
