#!/usr/bin/env python3
"""Independent brute-force check of `ntk-select preselect` with numpy and h5py.

Usage: check_preselect_numpy.py RUN K M

Reads RUN/embed/domain.h5 and the shards listed in RUN/embed/candidates.json,
computes every domain-candidate squared L2 distance in float64, keeps each
domain point's K nearest by (distance, record index), counts how many domain
points hold each candidate and the mean Euclidean distance, orders by
(count desc, mean asc, record asc), keeps M, and compares with
RUN/preselect/preselected.h5 and preselected_ids.txt. Exits 0 when they
match, 1 with one line per problem otherwise.
"""

import json
import os
import sys

import h5py
import numpy as np


def load(path):
    with h5py.File(path, "r") as f:
        return (f["features"][...].astype(np.float64), f["indices"][...], list(f["ids"].asstr()[...]))


def main(run, k, m):
    embed = os.path.join(run, "embed")
    q, _, _ = load(os.path.join(embed, "domain.h5"))
    with open(os.path.join(embed, "candidates.json"), encoding="utf-8") as f:
        index = json.load(f)
    shards = [load(os.path.join(embed, s["file"]) if not os.path.isabs(s["file"]) else s["file"])
              for s in index["shards"]]
    c = np.concatenate([s[0] for s in shards])
    records = np.concatenate([s[1] for s in shards])
    ids = sum((s[2] for s in shards), [])
    k = min(k, len(c))
    d2 = ((q[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)  # exact for the tests' integer rows
    count, total = {}, {}
    for i in range(len(q)):  # query order, as documented
        order = np.lexsort((records, d2[i]))[:k]
        for j in order:
            r = int(records[j])
            count[r] = count.get(r, 0) + 1
            total[r] = total.get(r, 0.0) + float(np.sqrt(d2[i, j]))
    ranked = sorted(count, key=lambda r: (-count[r], total[r] / count[r], r))[:m]
    id_of = {int(r): ids[j] for j, r in enumerate(records)}

    problems = []
    with h5py.File(os.path.join(run, "preselect", "preselected.h5"), "r") as f:
        got_records = [int(x) for x in f["records"][...]]
        got_counts = [int(x) for x in f["counts"][...]]
        got_mean = f["mean_distance"][...]
        got_ids = list(f["ids"].asstr()[...])
    if got_records != ranked:
        problems.append(f"records {got_records[:10]}... expected {ranked[:10]}...")
    if got_counts != [count[r] for r in ranked]:
        problems.append("counts differ")
    want_mean = np.array([total[r] / count[r] for r in ranked])
    if got_mean.shape != want_mean.shape or not np.allclose(got_mean, want_mean, rtol=1e-13, atol=0):
        problems.append("mean distances differ")
    if got_ids != [id_of[r] for r in ranked]:
        problems.append("ids differ")
    with open(os.path.join(run, "preselect", "preselected_ids.txt"), encoding="utf-8") as f:
        if f.read() != "".join(i + "\n" for i in got_ids):
            problems.append("preselected_ids.txt is not the ids, one per line")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
